import type { ErrorDetail } from '../errors.js';
import { checkTrustPolicySize } from './budget.js';
import { CLOUD_ID, CLOUD_ID_RULE } from '../config/constants.js';
import { formatPath } from '../errors.js';
import { PlanError } from './errors.js';
import { canonicalJson, sha256Hex } from '../json.js';
import { roleNameFor } from './naming.js';
import { ownershipLabels, ownershipTags, ROLE_ARN_ANNOTATION, type IamTag } from './ownership.js';
import {
  buildDefaultBucketPolicy,
  buildEc2TrustPolicy,
  buildWebIdentityTrustPolicy,
  DEFAULT_BUCKET_POLICY_NAME,
  policySize,
  serviceAccountSubject,
  type PolicyDocument,
  type TrustCluster,
} from './policies.js';
import { buildPodIdentityTrustPolicy, clusterArn } from './pod-identity.js';
import { serviceAccountSettings, type EffectiveServiceAccountSettings, type ResolvedSettings } from './settings.js';
import { buildGcpPlan, type GcpPlanItem } from './gcp-plan.js';

/**
 * The provisioning plan: a pure, deterministic, JSON-serialisable description of every IAM role,
 * instance profile and Kubernetes service account a config version needs. The workflow executes
 * it item by item (a Step Functions Map). For large configs pass `planItemsFor(plan)` (≈100 bytes
 * per item) through the state machine, not the plan itself (256 KB payload limit), and let each
 * iteration rebuild the plan from the stored config and pick its item with `findPlanItem`, which
 * checks the item digest so an iteration never executes an item that changed since planning.
 */
export type CloudProvider = 'AWS' | 'GCP';
export type ComputeStack = 'VM' | 'K8S';

export interface ResolvedCluster extends TrustCluster {
  name: string;
  /** The cluster's ARN (EKS DescribeCluster): what a Pod Identity trust policy names. */
  arn?: string;
}

export interface PlanInput {
  cloudId: string;
  configVersion: number;
  provider: CloudProvider;
  computeStack: ComputeStack;
  /** Distinct SA names (K8S) / instance-profile names (VM) from the rules and default_value, in first-appearance order. */
  values: string[];
  settings: ResolvedSettings;
  /** settings.clusters resolved to their OIDC providers (EKS DescribeCluster), same order. */
  clusters: ResolvedCluster[];
  /** The AWS account the roles live in (12 digits). */
  accountId: string;
  /** AWS partition; default `aws`. */
  partition?: string;
}

export interface RolePlan {
  name: string;
  path: string;
  arn: string;
  trustPolicy: PolicyDocument;
  /** Size of trustPolicy as IAM counts it (≤ settings.trustPolicyQuota). */
  trustPolicySize: number;
  permissionPolicy: { name: string; document: PolicyDocument };
  extraPolicyArns: string[];
  tags: IamTag[];
}

export interface K8sIrsaItem {
  kind: 'k8s-irsa';
  /**
   * Absent: IRSA (the role trusts the clusters' OIDC providers, the ServiceAccount is annotated).
   * `pod-identity`: EKS Pod Identity (lib/provisioning/pod-identity.ts): the role trusts
   * pods.eks.amazonaws.com, one association per (cluster, namespace) binds it, no annotation.
   */
  mechanism?: 'pod-identity';
  /** Pod Identity: the clusters to associate in (name and ARN) and the association's tags (ownership marks). */
  podIdentity?: { clusters: Array<{ name: string; arn: string }>; tags: IamTag[] };
  serviceAccount: { name: string; namespaces: string[] };
  role: RolePlan;
  adopt: { role: boolean; serviceAccount: boolean };
  /** IRSA: the role ARN annotation; Pod Identity: none (the ServiceAccount must not carry one). */
  annotations: { [ROLE_ARN_ANNOTATION]?: string };
  labels: Record<string, string>;
}

export interface InstanceProfileItem {
  kind: 'instance-profile';
  instanceProfile: { name: string; path: string; arn: string; tags: IamTag[] };
  role: RolePlan;
  adopt: { role: boolean; instanceProfile: boolean };
}

/** An AWS item: an IAM role with a ServiceAccount or an instance profile (`items` of a plan). */
export type PlanItem = K8sIrsaItem | InstanceProfileItem;
export type AwsPlanItem = PlanItem;
/** Any item of a plan: AWS (`items`) or Google Cloud (`gcpItems`, lib/provisioning/gcp-plan.ts). */
export type AnyPlanItem = PlanItem | GcpPlanItem;

export const isAwsItem = (item: AnyPlanItem): item is PlanItem => item.kind === 'k8s-irsa' || item.kind === 'instance-profile';
const isGcpKind = (kind: string) => kind.startsWith('gcp-');

export interface ProvisioningPlan {
  cloudId: string;
  configVersion: number;
  provider: CloudProvider;
  computeStack: ComputeStack;
  items: PlanItem[];
  /** Google Cloud clouds: their items (AWS plans have none and no such field). */
  gcpItems?: GcpPlanItem[];
  /** Why there is nothing to provision (GCP, no values), else null. */
  reason: string | null;
  /** Config that has no effect (an override for a value no rule names, ...). */
  warnings: string[];
  /** planDigest() of this plan. */
  digest: string;
}

/** What a Step Functions Map iterates over: small, and enough to find and verify the item. */
export interface PlanItemRef {
  index: number;
  kind: AnyPlanItem['kind'];
  /** The rule value: SA name or instance-profile name. */
  name: string;
  digest: string;
  /** `pod-identity` for an EKS Pod Identity item (the state machine's Choice reads it); absent for IRSA. */
  mechanism?: 'pod-identity';
}

const ACCOUNT = /^\d{12}$/;
const PARTITION = /^aws(?:-cn|-us-gov|-iso|-iso-b)?$/;
const ISSUER_HOST = /^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::\d{1,5})?(?:\/[A-Za-z0-9._~-]+)*$/;
const OIDC_ARN = /^arn:([\w-]+):iam::(\d{12}):oidc-provider\/(.+)$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;
const IAM_NAME = /^[\w+=,.@-]{1,128}$/;
const DIGEST_HEX = 16;

export function buildPlan(input: PlanInput): ProvisioningPlan {
  const { cloudId, configVersion, provider, computeStack, settings } = input;
  const partition = input.partition ?? 'aws';
  const errors: ErrorDetail[] = [];
  const fail = (path: string, message: string, extra: Record<string, unknown> = {}) => errors.push({ path, message, ...extra });

  if (!CLOUD_ID.test(cloudId)) fail('cloud_deployment_id', `${CLOUD_ID_RULE}, got ${JSON.stringify(cloudId)}`);
  if (!Number.isSafeInteger(configVersion) || configVersion < 0) fail('version', `must be a non-negative integer, got ${String(configVersion)}`);
  const base = (items: PlanItem[], reason: string | null, warnings: string[]) =>
    seal({ cloudId, configVersion, provider, computeStack, items, reason, warnings });

  if (provider === 'GCP') {
    const gcp = buildGcpPlan({ cloudId, computeStack, values: input.values, settings });
    errors.push(...gcp.errors);
    throwIf(errors);
    return seal({ cloudId, configVersion, provider, computeStack, items: [], gcpItems: gcp.items, reason: gcp.reason, warnings: gcp.warnings });
  }
  if (!ACCOUNT.test(input.accountId)) fail('environment.accountId', `must be a 12-digit AWS account id, got ${JSON.stringify(input.accountId)}`);
  if (!PARTITION.test(partition)) fail('environment.partition', `must be an AWS partition, got ${JSON.stringify(partition)}`);
  if (settings.defaultBucket === null) {
    fail(
      'provisioning.default_bucket',
      'the default bucket is required to grant every role its minimum access (seed 002): set provisioning.default_bucket or the environment default',
    );
  }
  const values = [...new Set(input.values)];
  const warnings = overrideWarnings(settings, values, computeStack);

  const clusters: ResolvedCluster[] = [];
  if (computeStack === 'K8S' && values.length > 0) {
    if (input.clusters.length === 0) fail('provisioning.clusters', 'no EKS cluster to trust: set provisioning.clusters or the environment cluster');
    input.clusters.forEach((c, i) => {
      const where = `clusters[${i}]`;
      const m = OIDC_ARN.exec(c.oidcProviderArn);
      if (!ISSUER_HOST.test(c.issuerHost))
        fail(where, `cluster ${c.name}: OIDC issuer ${JSON.stringify(c.issuerHost)} is not an issuer host (without https://)`);
      else if (!m || m[1] !== partition || m[3] !== c.issuerHost) {
        fail(
          where,
          `cluster ${c.name}: OIDC provider ARN ${JSON.stringify(c.oidcProviderArn)} must be arn:${partition}:iam::<account>:oidc-provider/${c.issuerHost}`,
        );
      } else if (m[2] !== input.accountId) {
        fail(
          where,
          `cluster ${c.name}: OIDC provider ${c.oidcProviderArn} is in account ${m[2]}, not ${input.accountId}; register the cluster's OIDC provider in the roles' account`,
        );
      } else if (!clusters.some((x) => x.oidcProviderArn === c.oidcProviderArn)) {
        const region = c.arn ? undefined : settings.clusters[i]?.region;
        const arn = c.arn ?? (region ? clusterArn(partition, region, input.accountId, c.name) : undefined);
        clusters.push({ name: c.name, oidcProviderArn: c.oidcProviderArn, issuerHost: c.issuerHost, ...(arn ? { arn } : {}) });
      }
    });
  }
  throwIf(errors);
  if (values.length === 0) return base([], 'no rule or default_value names an identity', warnings);

  const bucketPolicy = { name: DEFAULT_BUCKET_POLICY_NAME, document: buildDefaultBucketPolicy(settings.defaultBucket as string, partition) };
  const items: PlanItem[] = [];
  const owners = new Map<string, string>();
  values.forEach((value, i) => {
    const sa = serviceAccountSettings(settings, value);
    const valueError = checkValue(computeStack, value);
    if (valueError) {
      fail(`values[${i}]`, valueError);
      return;
    }
    const roleName = sa.roleName ?? roleNameFor(settings.roleNamePrefix, cloudId, value);
    const clash = owners.get(roleName.toLowerCase());
    if (clash !== undefined) {
      fail(
        formatPath(['service_accounts', value, 'role_name'], 'provisioning'),
        `${JSON.stringify(clash)} and ${JSON.stringify(value)} would share IAM role ${roleName} (role names ignore case); set a distinct role_name for one of them`,
      );
      return;
    }
    owners.set(roleName.toLowerCase(), value);
    const arn = `arn:${partition}:iam::${input.accountId}:role${settings.rolePath}${roleName}`;
    const roleBase = {
      name: roleName,
      path: settings.rolePath,
      arn,
      permissionPolicy: bucketPolicy,
      extraPolicyArns: sa.extraPolicyArns,
      tags: ownershipTags(cloudId, value),
    };
    try {
      if (computeStack === 'K8S' && sa.mechanism === 'pod-identity') {
        items.push(podIdentityItem({ cloudId, value, sa, roleBase, clusters, accountId: input.accountId, quota: settings.trustPolicyQuota, fail }));
      } else if (computeStack === 'K8S') {
        const trustPolicy = irsaTrustPolicy(clusters, value, sa, sa.namespaces.length);
        const trustPolicySize = checkTrustPolicySize({
          roleName,
          document: trustPolicy,
          quota: settings.trustPolicyQuota,
          path: sa.namespacesPath,
          hint: () => `(about ${namespacesThatFit(clusters, value, sa, settings.trustPolicyQuota)} of these namespaces fit per role)`,
        });
        items.push({
          kind: 'k8s-irsa',
          serviceAccount: { name: value, namespaces: sa.namespaces },
          role: { ...roleBase, trustPolicy, trustPolicySize },
          adopt: { role: sa.adoptRole, serviceAccount: sa.adoptServiceAccount },
          annotations: { [ROLE_ARN_ANNOTATION]: arn },
          labels: ownershipLabels(cloudId),
        });
      } else {
        const trustPolicy = buildEc2TrustPolicy();
        items.push({
          kind: 'instance-profile',
          instanceProfile: {
            name: value,
            path: settings.rolePath,
            arn: `arn:${partition}:iam::${input.accountId}:instance-profile${settings.rolePath}${value}`,
            tags: ownershipTags(cloudId, value),
          },
          role: { ...roleBase, trustPolicy, trustPolicySize: policySize(trustPolicy) },
          adopt: { role: sa.adoptRole, instanceProfile: sa.adoptInstanceProfile },
        });
      }
    } catch (e) {
      if (e instanceof PlanError) errors.push(...e.details);
      else throw e;
    }
  });
  throwIf(errors);
  return base(items, null, warnings);
}

function podIdentityItem(input: {
  cloudId: string;
  value: string;
  sa: EffectiveServiceAccountSettings;
  roleBase: Omit<RolePlan, 'trustPolicy' | 'trustPolicySize'>;
  clusters: readonly ResolvedCluster[];
  accountId: string;
  quota: number;
  fail: (path: string, message: string) => void;
}): K8sIrsaItem {
  const { cloudId, value, sa, roleBase, clusters } = input;
  const associated = clusters.flatMap((c) => (c.arn ? [{ name: c.name, arn: c.arn }] : []));
  for (const c of clusters) {
    if (!c.arn) input.fail('provisioning.clusters', `cluster ${c.name}: its ARN is unknown (set its region), which the Pod Identity trust policy names`);
  }
  const trustPolicy = buildPodIdentityTrustPolicy({ accountId: input.accountId, clusterArns: associated.map((c) => c.arn), serviceAccount: value });
  // Constant size whatever the namespaces (no per-namespace subject); IAM's quota still holds.
  const trustPolicySize = checkTrustPolicySize({ roleName: roleBase.name, document: trustPolicy, quota: input.quota, path: 'provisioning.clusters' });
  return {
    kind: 'k8s-irsa',
    mechanism: 'pod-identity',
    podIdentity: { clusters: associated, tags: ownershipTags(cloudId, value) },
    serviceAccount: { name: value, namespaces: sa.namespaces },
    role: { ...roleBase, trustPolicy, trustPolicySize },
    adopt: { role: sa.adoptRole, serviceAccount: sa.adoptServiceAccount },
    annotations: {},
    labels: ownershipLabels(cloudId),
  };
}

function irsaTrustPolicy(clusters: readonly TrustCluster[], name: string, sa: EffectiveServiceAccountSettings, namespaceCount: number): PolicyDocument {
  const subjects = [...sa.namespaces.slice(0, namespaceCount).map((ns) => serviceAccountSubject(ns, name)), ...sa.subjects];
  return buildWebIdentityTrustPolicy(clusters, subjects);
}

/** How many of the SA's namespaces (with its explicit subjects) fit in `quota` — for the advice. */
function namespacesThatFit(clusters: readonly TrustCluster[], name: string, sa: EffectiveServiceAccountSettings, quota: number): number {
  const fits = (k: number) => (k === 0 && sa.subjects.length === 0) || policySize(irsaTrustPolicy(clusters, name, sa, k)) <= quota;
  let lo = 0;
  let hi = sa.namespaces.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function checkValue(stack: ComputeStack, value: string): string | null {
  if (stack === 'K8S') {
    return DNS_SUBDOMAIN.test(value) ? null : `${JSON.stringify(value)} is not a Kubernetes service-account name (lowercase DNS-1123 subdomain)`;
  }
  if (value.startsWith('arn:')) return `${JSON.stringify(value)} is an ARN; the value must be an instance-profile name`;
  return IAM_NAME.test(value) ? null : `${JSON.stringify(value)} is not an IAM instance-profile name (1-128 characters of letters, digits and +=,.@_-)`;
}

function overrideWarnings(settings: ResolvedSettings, values: readonly string[], stack: ComputeStack): string[] {
  const warnings: string[] = [];
  const named = new Set(values);
  for (const [name, o] of Object.entries(settings.serviceAccounts)) {
    const path = formatPath(['service_accounts', name], 'provisioning');
    if (!named.has(name)) warnings.push(`${path}: no rule or default_value names ${JSON.stringify(name)}; the override has no effect`);
    else if (stack === 'VM' && (o.namespaces !== null || o.subjects.length > 0 || o.adoptServiceAccount)) {
      warnings.push(`${path}: namespaces, subjects and adopt_service_account apply to compute_stack K8S only; ignored for VM`);
    } else if (stack === 'VM' && o.mechanism) {
      warnings.push(`${path}: mechanism applies to compute_stack K8S only; ignored for VM`);
    } else if (stack === 'K8S' && o.adoptInstanceProfile) {
      warnings.push(`${path}: adopt_instance_profile applies to compute_stack VM only; ignored for K8S`);
    }
  }
  return warnings;
}

function throwIf(errors: ErrorDetail[]): void {
  if (errors.length === 0) return;
  const first = errors[0] as ErrorDetail;
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more problem${errors.length > 2 ? 's' : ''})` : '';
  throw new PlanError(`${first.message}${more}`, errors);
}

/**
 * Item digests of the plans sealed in this process, by item object. A run's Plan step lists every
 * item's digest (planItemsFor) and checks every item against it (findAnyPlanItem) right after
 * planning; each item's canonical text is computed once, here, for all three. Sealed items are
 * frozen, so a remembered digest stays true; an item read back from storage is a new object and
 * is digested again.
 */
const sealedItemDigests = new WeakMap<object, string>();

const itemDigest = (item: AnyPlanItem): string => sealedItemDigests.get(item) ?? planItemDigest(item);

function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const v of Object.values(value)) deepFreeze(v);
}

/** The plan with its digest (= planDigest(plan)), each item frozen and its canonical text computed once. */
function seal(plan: Omit<ProvisioningPlan, 'digest'>): ProvisioningPlan {
  const texts = new WeakMap<object, string>();
  for (const item of [...plan.items, ...(plan.gcpItems ?? [])]) {
    deepFreeze(item);
    const text = canonicalJson(item);
    texts.set(item, text);
    sealedItemDigests.set(item, sha256Hex(text).slice(0, DIGEST_HEX));
  }
  return { ...plan, digest: planDigest(plan, texts) };
}

/** sha256 (hex) of the plan's canonical JSON, its `digest` field excluded (`known`: canonical texts of some of its objects). */
export function planDigest(plan: Omit<ProvisioningPlan, 'digest'> | ProvisioningPlan, known?: Pick<WeakMap<object, string>, 'get'>): string {
  const { digest: _ignored, ...rest } = plan as ProvisioningPlan;
  return sha256Hex(canonicalJson(rest, known));
}

/** 16 hex of sha256 of the item's canonical JSON. */
export function planItemDigest(item: AnyPlanItem): string {
  return sha256Hex(canonicalJson(item)).slice(0, DIGEST_HEX);
}

function itemName(item: AnyPlanItem): string {
  if (item.kind === 'gcp-vm') return item.account.email;
  return item.kind === 'k8s-irsa' || item.kind === 'gcp-gke' ? item.serviceAccount.name : item.instanceProfile.name;
}

/** The minimal per-item records for a Step Functions Map. */
export function planItemsFor(plan: ProvisioningPlan): PlanItemRef[] {
  const refOf = (item: AnyPlanItem, index: number): PlanItemRef => ({
    index,
    kind: item.kind,
    name: itemName(item),
    digest: itemDigest(item),
    ...(item.kind === 'k8s-irsa' && item.mechanism ? { mechanism: item.mechanism } : {}),
  });
  return [...plan.items.map(refOf), ...(plan.gcpItems ?? []).map(refOf)];
}

/** The item `ref` points at, after checking it is still the same item; PlanError otherwise. */
export function findPlanItem(plan: ProvisioningPlan, ref: PlanItemRef): PlanItem {
  const item = findAnyPlanItem(plan, ref);
  if (!isAwsItem(item))
    throw new PlanError(`plan item ${ref.index} (${ref.name}) is a Google Cloud item`, [{ path: `items[${ref.index}]`, message: 'not an AWS item' }]);
  return item;
}

/** findPlanItem for any provider's item (AWS `items` or Google Cloud `gcpItems`). */
export function findAnyPlanItem(plan: ProvisioningPlan, ref: PlanItemRef): AnyPlanItem {
  const item: AnyPlanItem | undefined = isGcpKind(ref.kind) ? plan.gcpItems?.[ref.index] : plan.items[ref.index];
  if (!item || item.kind !== ref.kind || itemName(item) !== ref.name || itemDigest(item) !== ref.digest) {
    throw new PlanError(`plan item ${ref.index} (${ref.name}) changed since it was planned; re-plan and run again`, [
      { path: `items[${ref.index}]`, message: 'stale plan item' },
    ]);
  }
  return item;
}
