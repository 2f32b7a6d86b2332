import { sha256Hex } from '../json.js';

/**
 * Ownership marks. Everything the provisioning workflow creates carries them; it never changes
 * an IAM role or a Kubernetes service account that lacks them unless the config says to adopt it
 * (CONTRACT §3). The cloud mark keeps two clouds sharing one AWS account / cluster apart.
 */
export const MANAGER = 'iam-mapping-service';

/** IAM tag keys (role, instance profile). */
export const MANAGED_BY_TAG = 'iam-mapping.anyscale.io/managed-by';
export const CLOUD_TAG = 'iam-mapping.anyscale.io/cloud';
/** The rule value (SA name / instance-profile name) the role was made for; informational. */
export const IDENTITY_TAG = 'iam-mapping.anyscale.io/identity';

/** Kubernetes label keys (service account). */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const CLOUD_LABEL = 'iam-mapping.anyscale.io/cloud';

/** Kubernetes annotation IRSA reads. */
export const ROLE_ARN_ANNOTATION = 'eks.amazonaws.com/role-arn';

export interface IamTag {
  Key: string;
  Value: string;
}

const K8S_LABEL_VALUE = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
// IAM tag values: letters, digits, spaces and _.:/=+-@, at most 256 (we refuse spaces too).
const IAM_TAG_VALUE = /^[\p{L}\p{N}_.:/=+@-]{0,256}$/u;

/**
 * The cloud id as a Kubernetes label value: itself when valid (`cldrsrc_XXXX` is), otherwise
 * `sha256.` + 40 hex of its sha256 (a form that is itself a valid label value).
 */
export function cloudLabelValue(cloudId: string): string {
  return K8S_LABEL_VALUE.test(cloudId) && !cloudId.startsWith('sha256.') ? cloudId : `sha256.${sha256Hex(cloudId).slice(0, 40)}`;
}

/** `text` as an IAM tag value: itself when valid, else `sha256.` + 40 hex (like the label). */
export function iamTagValue(text: string): string {
  return IAM_TAG_VALUE.test(text) && !text.startsWith('sha256.') ? text : `sha256.${sha256Hex(text).slice(0, 40)}`;
}

/** The cloud id as an IAM tag value. */
export const cloudTagValue = (cloudId: string): string => iamTagValue(cloudId);

/** Tags for a role / instance profile made for `identity` of `cloudId`, sorted by key. */
export function ownershipTags(cloudId: string, identity?: string): IamTag[] {
  const tags: IamTag[] = [
    { Key: CLOUD_TAG, Value: cloudTagValue(cloudId) },
    { Key: MANAGED_BY_TAG, Value: MANAGER },
  ];
  if (identity !== undefined) tags.splice(1, 0, { Key: IDENTITY_TAG, Value: iamTagValue(identity) });
  return tags;
}

/** Labels for a service account of `cloudId`. */
export function ownershipLabels(cloudId: string): Record<string, string> {
  return { [MANAGED_BY_LABEL]: MANAGER, [CLOUD_LABEL]: cloudLabelValue(cloudId) };
}

type TagInput = ReadonlyArray<{ Key?: string | undefined; Value?: string | undefined }> | Readonly<Record<string, string | undefined>> | null | undefined;

function tagValue(tags: TagInput, key: string): string | undefined {
  if (tags == null) return undefined;
  if (Array.isArray(tags)) {
    return (tags as ReadonlyArray<{ Key?: string; Value?: string }>).find((t) => t.Key === key)?.Value;
  }
  const rec = tags as Readonly<Record<string, string | undefined>>;
  return Object.hasOwn(rec, key) ? rec[key] : undefined;
}

/** A role is ours iff it carries both marks, the cloud mark naming this cloud. Accepts IAM's `[{Key,Value}]` or a plain map. */
export function isOwnedRole(tags: TagInput, cloudId: string): boolean {
  return tagValue(tags, MANAGED_BY_TAG) === MANAGER && tagValue(tags, CLOUD_TAG) === cloudTagValue(cloudId);
}

/** A service account is ours iff it carries both labels, the cloud label naming this cloud. */
export function isOwnedServiceAccount(labels: Readonly<Record<string, string | undefined>> | null | undefined, cloudId: string): boolean {
  return tagValue(labels, MANAGED_BY_LABEL) === MANAGER && tagValue(labels, CLOUD_LABEL) === cloudLabelValue(cloudId);
}
