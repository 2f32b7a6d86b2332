/**
 * The Google Cloud part of a config's `provisioning` section (`provisioning.gcp`), for
 * `cloud_provider: GCP`. The shared fields keep their meaning: `namespaces`, `default_bucket`,
 * `service_accounts.<ksa>.namespaces` / `adopt_service_account` (GKE) and `drift`; the AWS-only
 * fields (`clusters`, `role_*`, `trust_policy_quota`, `subjects`, `extra_policy_arns`,
 * `adopt_role`, `adopt_instance_profile`) are refused for GCP, and `gcp` is refused for AWS.
 *
 * ```yaml
 * provisioning:
 *   namespaces: [anyscale-operator]
 *   default_bucket: my-anyscale-bucket          # roles/storage.objectUser for every account
 *   gcp:
 *     project: my-project                       # default: the deployment's GCP_PROJECT
 *     workload_pool: my-project.svc.id.goog     # default: <project>.svc.id.goog
 *     clusters:                                 # GKE clusters the ServiceAccounts are made in
 *       - { name: prod-gke, location: us-central1 }   # default: the deployment's GKE cluster
 *     account_id_prefix: iamm-                  # Google account ids: <prefix><ksa>-<hash>, ≤ 30 chars
 *     control_plane_service_account: cp@my-project.iam.gserviceaccount.com   # VM: gets serviceAccountUser
 *     create_missing_accounts: false            # VM: create a rule's account when it does not exist
 *     accounts:                                 # per rule value (KSA name, or VM account e-mail)
 *       kubernetes-service-account-name1:
 *         account_id: ml-team-a                 # explicit Google account id (6-30 chars)
 *         adopt_account: false                  # take over an existing account without our marks
 *         extra_roles: [roles/storage.legacyBucketReader]   # more bucket roles, from the deployment's allow-list
 * ```
 */
import { z } from 'zod';
import { formatPath } from '../errors.js';

/** Google's service-account id rule (6-30 characters). */
export const GCP_ACCOUNT_ID = /^[a-z]([-a-z0-9]*[a-z0-9])$/;
export const GCP_ACCOUNT_ID_MIN = 6;
export const GCP_ACCOUNT_ID_MAX = 30;
/** Project ids: 6-30 lowercase letters, digits and hyphens, starting with a letter, not ending with a hyphen. */
export const GCP_PROJECT = /^[a-z][-a-z0-9]{4,28}[a-z0-9]$/;
const PREFIX = /^[a-z][-a-z0-9]{0,9}$/;
const POOL = /^[a-z][-a-z0-9]{4,28}[a-z0-9]\.svc\.id\.goog$/;
const GKE_CLUSTER = /^[a-z](?:[-a-z0-9]{0,38}[a-z0-9])?$/;
const LOCATION = /^[a-z]+-[a-z]+\d{1,2}(?:-[a-z])?$/;
const ROLE = /^roles\/[A-Za-z0-9_.]{1,64}$/;
export const GCP_SA_EMAIL = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?@[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?\.gserviceaccount\.com$/;
const RULE_VALUE = /^[\w+=,.@-]{1,256}$/;

export const DEFAULT_ACCOUNT_ID_PREFIX = 'iamm-';
/** The bucket role every account gets on the default bucket: object read/write (seed 001). */
export const BUCKET_OBJECT_ROLE = 'roles/storage.objectUser';
export const WORKLOAD_IDENTITY_ROLE = 'roles/iam.workloadIdentityUser';
export const SERVICE_ACCOUNT_USER_ROLE = 'roles/iam.serviceAccountUser';
/** GKE's annotation naming the Google service account of a Kubernetes ServiceAccount. */
export const GKE_SA_ANNOTATION = 'iam.gke.io/gcp-service-account';

/** A GKE cluster's OIDC issuer (without `https://`): `container.googleapis.com/v1/projects/<p>/locations/<l>/clusters/<name>`, `-` for an unknown location. */
export function gkeIssuer(project: string, location: string | null, name: string): string {
  return `container.googleapis.com/v1/projects/${project}/locations/${location ?? '-'}/clusters/${name}`;
}

const GKE_ISSUER = /^container\.googleapis\.com\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/clusters\/([^/]+)$/;

/** The GKE cluster an issuer names (a claim of a GKE ServiceAccount records it), or null for any other issuer (EKS's). */
export function parseGkeIssuer(issuer: string): { project: string; location: string | null; name: string } | null {
  const m = GKE_ISSUER.exec(issuer);
  return m ? { project: m[1]!, location: m[2] === '-' ? null : m[2]!, name: m[3]! } : null;
}

const str = (re: RegExp, expected: string) => z.string().regex(re, `must be ${expected}`);

const accountSchema = z.strictObject({
  account_id: str(GCP_ACCOUNT_ID, `a Google service-account id (${GCP_ACCOUNT_ID_MIN}-${GCP_ACCOUNT_ID_MAX} of a-z, 0-9 and "-", starting with a letter)`)
    .min(GCP_ACCOUNT_ID_MIN, `must be at least ${GCP_ACCOUNT_ID_MIN} characters (Google's service-account id rule)`)
    .max(GCP_ACCOUNT_ID_MAX, `must be at most ${GCP_ACCOUNT_ID_MAX} characters (Google's service-account id rule)`)
    .optional(),
  adopt_account: z.boolean().optional(),
  extra_roles: z.array(str(ROLE, 'a predefined role such as roles/storage.legacyBucketReader')).max(20).optional(),
});

export const gcpSettingsSchema = z.strictObject({
  project: str(GCP_PROJECT, 'a Google Cloud project id (6-30 of a-z, 0-9 and "-", starting with a letter)').optional(),
  workload_pool: str(POOL, 'a GKE workload identity pool <project>.svc.id.goog').optional(),
  clusters: z
    .array(
      z.strictObject({
        name: str(GKE_CLUSTER, 'a GKE cluster name (1-40 of a-z, 0-9 and "-", starting with a letter)'),
        location: str(LOCATION, 'a Google Cloud region or zone such as us-central1 or us-central1-a').optional(),
      }),
    )
    .min(1)
    .max(20)
    .optional(),
  account_id_prefix: str(PREFIX, 'an account-id prefix (at most 10 of a-z, 0-9 and "-", starting with a letter)').optional(),
  control_plane_service_account: str(GCP_SA_EMAIL, 'a Google service-account e-mail such as cp@my-project.iam.gserviceaccount.com').optional(),
  create_missing_accounts: z.boolean().optional(),
  accounts: z.record(str(RULE_VALUE, 'a rule value (Kubernetes service-account name or service-account e-mail)'), accountSchema).optional(),
});

export type GcpSettings = z.infer<typeof gcpSettingsSchema>;

/** Defaults from the deployment's environment. */
export interface GcpSettingsDefaults {
  /** GCP_PROJECT. */
  gcpProject?: string;
  /** GKE_CLUSTER_NAME / GKE_CLUSTER_LOCATION. */
  gkeClusterName?: string;
  gkeClusterLocation?: string;
  /** GCP_CONTROL_PLANE_SERVICE_ACCOUNT. */
  gcpControlPlaneServiceAccount?: string;
  /** GCP_ALLOWED_ROLES: the bucket roles `extra_roles` may name. */
  gcpAllowedRoles?: readonly string[];
}

export interface ResolvedGcpAccount {
  accountId: string | null;
  adoptAccount: boolean;
  extraRoles: string[];
}

export interface ResolvedGcpSettings {
  project: string | null;
  workloadPool: string | null;
  clusters: Array<{ name: string; location: string | null }>;
  accountIdPrefix: string;
  controlPlaneServiceAccount: string | null;
  createMissingAccounts: boolean;
  accounts: Record<string, ResolvedGcpAccount>;
}

export function resolveGcpSettings(raw: GcpSettings | undefined, defaults: GcpSettingsDefaults = {}): ResolvedGcpSettings {
  const s = raw ?? {};
  const project = s.project ?? defaults.gcpProject ?? null;
  const accounts: Record<string, ResolvedGcpAccount> = {};
  for (const [name, a] of Object.entries(s.accounts ?? {})) {
    accounts[name] = { accountId: a.account_id ?? null, adoptAccount: a.adopt_account ?? false, extraRoles: [...new Set(a.extra_roles ?? [])] };
  }
  return {
    project,
    workloadPool: s.workload_pool ?? (project ? `${project}.svc.id.goog` : null),
    clusters:
      s.clusters?.map((c) => ({ name: c.name, location: c.location ?? defaults.gkeClusterLocation ?? null })) ??
      (defaults.gkeClusterName ? [{ name: defaults.gkeClusterName, location: defaults.gkeClusterLocation ?? null }] : []),
    accountIdPrefix: s.account_id_prefix ?? DEFAULT_ACCOUNT_ID_PREFIX,
    controlPlaneServiceAccount: s.control_plane_service_account ?? defaults.gcpControlPlaneServiceAccount ?? null,
    createMissingAccounts: s.create_missing_accounts ?? false,
    accounts,
  };
}

export function gcpAccountSettings(settings: ResolvedGcpSettings, value: string): ResolvedGcpAccount {
  return (Object.hasOwn(settings.accounts, value) ? settings.accounts[value] : undefined) ?? { accountId: null, adoptAccount: false, extraRoles: [] };
}

const AWS_ONLY_TOP = ['clusters', 'role_name_prefix', 'role_path', 'trust_policy_quota', 'mechanism', 'control_plane_role'] as const;
const AWS_ONLY_SA = ['subjects', 'extra_policy_arns', 'adopt_role', 'adopt_instance_profile', 'role_name', 'mechanism'] as const;

type Add = (path: Array<string | number>, message: string) => void;
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * What a `provisioning` section asks for that does not apply to its provider, or that the
 * deployment does not allow (extra roles outside GCP_ALLOWED_ROLES). Reads the raw section defensively; paths are
 * relative to the document.
 */
export function gcpProvisioningIssues(
  config: { cloud_provider: string; compute_stack: string; provisioning?: unknown; dataplane_iam_mapping?: unknown },
  defaults: GcpSettingsDefaults,
  add: Add,
): void {
  const p = config.provisioning;
  if (config.cloud_provider !== 'GCP') {
    if (isObject(p) && p.gcp !== undefined) add(['provisioning', 'gcp'], 'provisioning.gcp applies to cloud_provider GCP only; remove it for AWS');
    return;
  }
  const raw = isObject(p) ? p : {};
  for (const key of AWS_ONLY_TOP) {
    if (raw[key] !== undefined) {
      add(
        ['provisioning', key],
        key === 'clusters'
          ? 'clusters names EKS clusters (AWS); for GKE set provisioning.gcp.clusters'
          : `${key} applies to AWS clouds only; remove it for GCP`,
      );
    }
  }
  if (isObject(raw.service_accounts)) {
    for (const [name, sa] of Object.entries(raw.service_accounts)) {
      if (!isObject(sa)) continue;
      for (const key of AWS_ONLY_SA) {
        if (sa[key] !== undefined) {
          add(
            ['provisioning', 'service_accounts', name, key],
            `${key} applies to AWS clouds only${key === 'extra_policy_arns' ? '; for GCP name bucket roles in provisioning.gcp.accounts.<value>.extra_roles' : ''}`,
          );
        }
      }
    }
  }
  // A missing project / control-plane account is not refused here (the seed examples are accepted
  // verbatim by every deployment): the plan fails naming the field (run FAILED, never SUCCEEDED).
  const gcp = isObject(raw.gcp) ? raw.gcp : {};
  if (config.compute_stack === 'VM' && gcp.clusters !== undefined) add(['provisioning', 'gcp', 'clusters'], 'clusters apply to compute_stack K8S (GKE) only');
  if (config.compute_stack === 'K8S' && gcp.create_missing_accounts !== undefined) {
    add(['provisioning', 'gcp', 'create_missing_accounts'], 'create_missing_accounts applies to compute_stack VM only (GKE accounts are always created)');
  }
  const allowed = new Set(defaults.gcpAllowedRoles ?? []);
  if (isObject(gcp.accounts)) {
    for (const [name, a] of Object.entries(gcp.accounts)) {
      if (!isObject(a)) continue;
      if (config.compute_stack === 'VM' && a.account_id !== undefined) {
        add(
          ['provisioning', 'gcp', 'accounts', name, 'account_id'],
          'account_id applies to compute_stack K8S only: for VM the rule value is the account e-mail',
        );
      }
      if (!Array.isArray(a.extra_roles)) continue;
      a.extra_roles.forEach((role, i) => {
        if (typeof role === 'string' && ROLE.test(role) && !allowed.has(role)) {
          const list = allowed.size > 0 ? `allowed: ${[...allowed].join(', ')}` : 'this deployment allows none (GCP_ALLOWED_ROLES)';
          add(['provisioning', 'gcp', 'accounts', name, 'extra_roles', i], `${role} is not in the deployment's allow-list of bucket roles (${list})`);
        }
      });
    }
  }
}

export const gcpAccountPath = (value: string, field: string) => formatPath(['gcp', 'accounts', value, field], 'provisioning');
