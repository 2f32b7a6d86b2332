/**
 * The plan of a Google Cloud config (CONTRACT §3, GCP):
 *
 * - `gcp-gke` (compute_stack K8S, GKE Workload Identity), per Kubernetes ServiceAccount: a Google
 *   service account with a deterministic id (`<prefix><ksa>-<6 hex of sha256(cloud/ksa)>`, within
 *   Google's 6-30 character rule; the hash keeps two clouds or two long names apart), its
 *   `roles/iam.workloadIdentityUser` binding for exactly
 *   `serviceAccount:<pool>[<namespace>/<ksa>]` of each configured namespace,
 *   `roles/storage.objectUser` (plus allow-listed extra roles) on the default bucket, and the
 *   ServiceAccount annotated `iam.gke.io/gcp-service-account: <email>` in every GKE cluster.
 * - `gcp-vm` (compute_stack VM), per rule value (a service-account e-mail): the bucket access, and
 *   `roles/iam.serviceAccountUser` on the account for the control plane's service account, so it
 *   can attach the account to VMs. The account must exist unless `create_missing_accounts` is set.
 *
 * Ownership marks of an account the service creates are in its description (Google service
 * accounts have no labels), in the ServiceAccount label forms: `app.kubernetes.io/managed-by=iam-mapping-service
 * iam-mapping.anyscale.io/cloud=<cloud> …`; see gcpAccountMarks().
 */
import type { ErrorDetail } from '../errors.js';
import { sha256Hex } from '../json.js';
import {
  BUCKET_OBJECT_ROLE,
  GCP_ACCOUNT_ID,
  GCP_ACCOUNT_ID_MAX,
  GCP_ACCOUNT_ID_MIN,
  GCP_SA_EMAIL,
  GKE_SA_ANNOTATION,
  gcpAccountPath,
  gcpAccountSettings,
  SERVICE_ACCOUNT_USER_ROLE,
  WORKLOAD_IDENTITY_ROLE,
  type ResolvedGcpSettings,
} from './gcp-settings.js';
import { CLOUD_LABEL, cloudLabelValue, IDENTITY_TAG, iamTagValue, MANAGED_BY_LABEL, MANAGER, ownershipLabels } from './ownership.js';
import { serviceAccountSettings, type ResolvedSettings } from './settings.js';

export interface GcpAccountPlan {
  project: string;
  /** The part before `@`. */
  accountId: string;
  email: string;
  displayName: string;
  /** Carries the ownership marks (see gcpAccountMarks). */
  description: string;
}

export interface GcpBucketGrant {
  bucket: string;
  /** roles/storage.objectUser first, then the extra roles. */
  roles: string[];
  member: string;
}

export interface GkeItem {
  kind: 'gcp-gke';
  serviceAccount: { name: string; namespaces: string[] };
  account: GcpAccountPlan;
  /** The account's own IAM policy: exactly these members hold roles/iam.workloadIdentityUser. */
  accountBinding: { role: typeof WORKLOAD_IDENTITY_ROLE; members: string[] };
  bucket: GcpBucketGrant;
  adopt: { account: boolean; serviceAccount: boolean };
  annotations: { [GKE_SA_ANNOTATION]: string };
  labels: Record<string, string>;
}

export interface GcpVmItem {
  kind: 'gcp-vm';
  account: GcpAccountPlan & { create: boolean };
  /** roles/iam.serviceAccountUser on the account for the control plane's account. */
  accountBinding: { role: typeof SERVICE_ACCOUNT_USER_ROLE; members: string[] };
  bucket: GcpBucketGrant;
  adopt: { account: boolean };
}

export type GcpPlanItem = GkeItem | GcpVmItem;

export interface GcpPlanInput {
  cloudId: string;
  computeStack: 'VM' | 'K8S';
  values: string[];
  settings: ResolvedSettings;
}

/** The `<prefix>/<key>=<value>` words of an account description (its ownership marks and creation token), by key. */
export function gcpAccountMarks(description: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of (description ?? '').matchAll(/(?:^|\s)([a-z0-9.-]+\/[a-z-]+)=(\S+)/g)) out[m[1] as string] = m[2] as string;
  return out;
}

/** The ownership marks as `key=value` words (a create adds its inventory token); at most 256 characters with the token. */
function description(cloudId: string, value: string): string {
  const marks = `${MANAGED_BY_LABEL}=${MANAGER} ${CLOUD_LABEL}=${cloudLabelValue(cloudId)}`;
  const identity = ` ${IDENTITY_TAG}=${iamTagValue(value)}`;
  return marks.length + identity.length <= 178 ? marks + identity : marks;
}

const displayName = (cloudId: string, value: string) => `iam-mapping ${cloudId} ${value}`.slice(0, 100);

/**
 * The Google account id for a Kubernetes ServiceAccount: `<prefix><name>-<hash>` with the name
 * cut so that the whole is at most 30 characters; always valid for Google's rule.
 */
export function gcpAccountIdFor(prefix: string, cloudId: string, ksa: string): string {
  const hash = sha256Hex(`${cloudId}/${ksa}`).slice(0, 6);
  const room = GCP_ACCOUNT_ID_MAX - prefix.length - hash.length - 1;
  let stem = `${prefix}${ksa.replace(/[^a-z0-9-]/g, '-').slice(0, Math.max(0, room))}`.replace(/-+$/, '');
  if (!/^[a-z]/.test(stem)) stem = `a${stem}`.slice(0, GCP_ACCOUNT_ID_MAX - hash.length - 1);
  return `${stem}-${hash}`;
}

/** The project a service-account e-mail names (`x@<project>.iam.gserviceaccount.com`), else null. */
export function projectOfEmail(email: string): string | null {
  return /@([a-z][-a-z0-9]{4,28}[a-z0-9])\.iam\.gserviceaccount\.com$/.exec(email)?.[1] ?? null;
}

export function buildGcpPlan(input: GcpPlanInput): { items: GcpPlanItem[]; errors: ErrorDetail[]; warnings: string[]; reason: string | null } {
  const { cloudId, computeStack, settings } = input;
  const errors: ErrorDetail[] = [];
  const fail = (path: string, message: string) => errors.push({ path, message });
  const values = [...new Set(input.values)];
  const warnings: string[] = [];
  if (values.length === 0) return { items: [], errors, warnings, reason: 'no rule or default_value names an identity' };
  const gcp: ResolvedGcpSettings | undefined = settings.gcp;
  const bucket = settings.defaultBucket;
  if (bucket === null)
    fail(
      'provisioning.default_bucket',
      'the default bucket is required to grant every account object read/write (seed 001): set provisioning.default_bucket or the environment default',
    );
  if (!gcp?.project && computeStack === 'K8S')
    fail('provisioning.gcp.project', 'the Google Cloud project of the service accounts is required: set provisioning.gcp.project');
  if (computeStack === 'K8S' && gcp && gcp.clusters.length === 0)
    fail('provisioning.gcp.clusters', 'no GKE cluster to make the ServiceAccounts in: set provisioning.gcp.clusters or the environment cluster');
  if (computeStack === 'VM' && !gcp?.controlPlaneServiceAccount) {
    fail(
      'provisioning.gcp.control_plane_service_account',
      "the control plane's service account is required (it gets roles/iam.serviceAccountUser on each account)",
    );
  }
  if (errors.length > 0 || !gcp) return { items: [], errors, warnings, reason: null };

  for (const name of Object.keys(gcp.accounts))
    if (!values.includes(name))
      warnings.push(`${gcpAccountPath(name, '')}: no rule or default_value names ${JSON.stringify(name)}; the override has no effect`.replace('.:', ':'));

  const items: GcpPlanItem[] = [];
  const ids = new Map<string, string>();
  values.forEach((value, i) => {
    const a = gcpAccountSettings(gcp, value);
    const roles = [BUCKET_OBJECT_ROLE, ...a.extraRoles.filter((r) => r !== BUCKET_OBJECT_ROLE)];
    if (computeStack === 'K8S') {
      const project = gcp.project as string;
      const accountId = a.accountId ?? gcpAccountIdFor(gcp.accountIdPrefix, cloudId, value);
      if (!GCP_ACCOUNT_ID.test(accountId) || accountId.length < GCP_ACCOUNT_ID_MIN || accountId.length > GCP_ACCOUNT_ID_MAX) {
        fail(gcpAccountPath(value, 'account_id'), `account id ${accountId} breaks Google's rule (6-30 of a-z, 0-9 and "-", starting with a letter)`);
        return;
      }
      const clash = ids.get(accountId);
      if (clash !== undefined) {
        fail(
          gcpAccountPath(value, 'account_id'),
          `${JSON.stringify(clash)} and ${JSON.stringify(value)} would share Google service account ${accountId}; set a distinct account_id`,
        );
        return;
      }
      ids.set(accountId, value);
      const email = `${accountId}@${project}.iam.gserviceaccount.com`;
      const sa = serviceAccountSettings(settings, value);
      items.push({
        kind: 'gcp-gke',
        serviceAccount: { name: value, namespaces: sa.namespaces },
        account: { project, accountId, email, displayName: displayName(cloudId, value), description: description(cloudId, value) },
        accountBinding: { role: WORKLOAD_IDENTITY_ROLE, members: sa.namespaces.map((ns) => `serviceAccount:${gcp.workloadPool}[${ns}/${value}]`) },
        bucket: { bucket: bucket as string, roles, member: `serviceAccount:${email}` },
        adopt: { account: a.adoptAccount, serviceAccount: sa.adoptServiceAccount },
        annotations: { [GKE_SA_ANNOTATION]: email },
        labels: ownershipLabels(cloudId),
      });
      return;
    }
    if (!GCP_SA_EMAIL.test(value)) {
      fail(`values[${i}]`, `${JSON.stringify(value)} is not a Google service-account e-mail`);
      return;
    }
    const [accountId] = value.split('@') as [string];
    // `-`: Google infers the project from the account (an e-mail outside <project>.iam.gserviceaccount.com).
    const project = projectOfEmail(value) ?? '-';
    if (gcp.createMissingAccounts && project === '-') {
      fail(`values[${i}]`, `${value}: create_missing_accounts can only create accounts named <id>@<project>.iam.gserviceaccount.com`);
      return;
    }
    if (gcp.createMissingAccounts && (!GCP_ACCOUNT_ID.test(accountId) || accountId.length < GCP_ACCOUNT_ID_MIN || accountId.length > GCP_ACCOUNT_ID_MAX)) {
      fail(
        `values[${i}]`,
        `${value}: create_missing_accounts cannot create it, its id ${JSON.stringify(accountId)} breaks Google's rule (6-30 of a-z, 0-9 and "-", starting with a letter); create it outside the service or name another account`,
      );
      return;
    }
    items.push({
      kind: 'gcp-vm',
      account: {
        project,
        accountId,
        email: value,
        displayName: displayName(cloudId, value),
        description: description(cloudId, value),
        create: gcp.createMissingAccounts,
      },
      accountBinding: { role: SERVICE_ACCOUNT_USER_ROLE, members: [`serviceAccount:${gcp.controlPlaneServiceAccount}`] },
      bucket: { bucket: bucket as string, roles, member: `serviceAccount:${value}` },
      adopt: { account: a.adoptAccount },
    });
  });
  return { items, errors, warnings, reason: null };
}
