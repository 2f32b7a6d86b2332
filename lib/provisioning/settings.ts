import { POLICIES_PER_ROLE_DEFAULT } from '../config/limits.js';
import { z } from 'zod';
import { AppError, formatPath, type ErrorDetail } from '../errors.js';
import { TRUST_POLICY_QUOTA_DEFAULT, TRUST_POLICY_QUOTA_MAX, TRUST_POLICY_QUOTA_MIN } from './budget.js';
import { globMatch, hasWildcard } from './glob.js';
import { ROLE_NAME_PREFIX_MAX } from './naming.js';
import { gcpSettingsSchema, resolveGcpSettings, type GcpSettingsDefaults, type ResolvedGcpSettings } from './gcp-settings.js';

/**
 * The optional `provisioning` section of a mapping config. Every field is optional;
 * resolveSettings() applies the defaults. Unknown fields are errors (typos must not be ignored),
 * and no accepted string can carry quotes, `$`, braces, backslashes or whitespace into a policy
 * document, ARN, label or shell command; `*`/`?` only in explicit `subjects`.
 *
 * ```yaml
 * provisioning:
 *   namespaces: [anyscale-operator]          # where the service accounts live (default)
 *   clusters:                                # EKS clusters whose OIDC providers are trusted
 *     - name: prod-eks                       # default: the cluster of the environment
 *       region: us-west-2                    # default: the region of the environment
 *   default_bucket: my-anyscale-bucket       # seed 002 access for every role
 *   role_name_prefix: iam-mapping-           # default
 *   role_path: /iam-mapping/                 # default
 *   trust_policy_quota: 2048                 # IAM ACLSizePerRole; 1024..4096 (default 2048)
 *   mechanism: irsa                          # irsa (default) | pod-identity: how a pod gets its role (AWS K8S)
 *   service_accounts:                        # per rule value overrides
 *     default-editor:                        # Kubeflow: one role, several namespaces
 *       namespaces: [user-a, user-b]
 *     default:                               # Flyte: explicit wildcard subject (StringLike)
 *       subjects: ['system:serviceaccount:*:default']
 *       adopt_service_account: true          # take over the pre-existing, unlabelled SA
 *     kubernetes-service-account-name1:
 *       role_name: ml-team-a-role            # explicit role name (1-64 of [A-Za-z0-9+=,.@_-])
 *       extra_policy_arns: [arn:aws:iam::123456789012:policy/ml-team-a]
 *       adopt_role: false
 *       mechanism: pod-identity              # per service account: overrides the top-level mechanism
 *   drift: { mode: report, delete_orphans: false }   # mode: off | report | repair
 *   gcp: { project: my-project, … }          # cloud_provider GCP only: lib/provisioning/gcp-settings.ts
 * ```
 *
 * `mechanism: pod-identity` makes each identity with EKS Pod Identity instead of IRSA: the role
 * trusts `pods.eks.amazonaws.com` (sts:AssumeRole + sts:TagSession, conditioned on the account, the
 * clusters' ARNs and the service account), one pod identity association per (cluster, namespace,
 * ServiceAccount) binds it, and the ServiceAccount carries no role annotation. The trust-policy
 * budget does not apply (the trust policy does not grow with namespaces). See
 * lib/provisioning/pod-identity.ts.
 *
 * For GCP clouds `namespaces`, `default_bucket`, `service_accounts.<ksa>.namespaces` /
 * `adopt_service_account` and `drift` keep their meaning; the AWS-only fields are refused.
 */

// Characters that could escape from a value into another document. Reported by name.
const ESCAPES: ReadonlyArray<[RegExp, string]> = [
  [/["'`]/, 'quotes'],
  [/\$/, "'$'"],
  [/[{}]/, 'braces'],
  [/\\/, 'backslashes'],
  [/\s/, 'whitespace'],
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  [/[\u0000-\u001f\u007f]/, 'control characters'],
];

function safeString(pattern: RegExp, expected: string, options: { wildcards?: boolean } = {}) {
  return z.string().superRefine((value, ctx) => {
    for (const [re, name] of ESCAPES) {
      const m = re.exec(value);
      if (m) {
        ctx.addIssue({ code: 'custom', message: `must not contain ${name} (found ${JSON.stringify(m[0])} at position ${m.index})` });
        return;
      }
    }
    if (!options.wildcards) {
      const w = /[*?]/.exec(value);
      if (w) {
        ctx.addIssue({
          code: 'custom',
          message: `must not contain wildcards (found ${JSON.stringify(w[0])} at position ${w.index}); wildcards are allowed only in service_accounts.<name>.subjects`,
        });
        return;
      }
    }
    if (!pattern.test(value))
      ctx.addIssue({ code: 'custom', message: `must be ${expected}, got ${JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)}` });
  });
}

const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;
const IAM_NAME = /^[\w+=,.@-]{1,128}$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const ROLE_PREFIX = new RegExp(`^[\\w+=,.@-]{0,${ROLE_NAME_PREFIX_MAX}}$`);
const ROLE_PATH = /^(?=.{1,512}$)\/(?:[\w+=,.@-]+\/)*$/;
const EKS_CLUSTER = /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
const POLICY_ARN = /^arn:aws(?:-cn|-us-gov|-iso|-iso-b)?:iam::(?:\d{12}|aws):policy\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,128}$/;
const SUBJECT = /^system:serviceaccount:([-a-z0-9*?]{1,63}):([-a-z0-9.*?]{1,253})$/;
/** An IAM role ARN (any path) or a bare role name: the control plane's role (lib/provisioning/pass-role.ts). */
export const ROLE_ARN = /^arn:aws(?:-cn|-us-gov|-iso|-iso-b)?:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
const ROLE_ARN_OR_NAME = new RegExp(`${ROLE_ARN.source}|${ROLE_NAME.source}`);

const namespaceSchema = safeString(
  DNS_LABEL,
  'a Kubernetes namespace name (DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63 characters)',
);

const bucketSchema = z.string().superRefine((value, ctx) => {
  const problem = s3BucketProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** Why `name` is not a valid (general purpose) S3 bucket name, or null. */
export function s3BucketProblem(name: string): string | null {
  for (const [re, what] of ESCAPES) {
    const m = re.exec(name);
    if (m) return `must not contain ${what} (found ${JSON.stringify(m[0])} at position ${m.index})`;
  }
  if (name.length < 3 || name.length > 63) return 'must be an S3 bucket name of 3 to 63 characters';
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) {
    return 'must be an S3 bucket name: lowercase letters, digits, "." and "-", starting and ending with a letter or digit';
  }
  if (name.includes('..')) return 'must be an S3 bucket name: no two adjacent periods';
  if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(name)) return 'must be an S3 bucket name, not an IP address';
  for (const prefix of ['xn--', 'sthree-', 'amzn-s3-demo-'])
    if (name.startsWith(prefix)) return `must be an S3 bucket name: the prefix "${prefix}" is reserved`;
  for (const suffix of ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'])
    if (name.endsWith(suffix)) return `must be an S3 bucket name: the suffix "${suffix}" is reserved`;
  return null;
}

/**
 * Kubernetes namespaces no config may place an identity in (its ServiceAccounts are the cluster's
 * own: aws-node, coredns, …); a deployment adds more with PROTECTED_NAMESPACES.
 */
export const BUILTIN_PROTECTED_NAMESPACES: readonly string[] = ['kube-system', 'kube-public', 'kube-node-lease'];

const WHOLE_SEGMENT_WILDCARDS =
  'a wildcard may only be a whole segment: system:serviceaccount:<namespace>:* (every service account of one namespace) or system:serviceaccount:*:<name> (one name in every namespace)';

const subjectSchema = safeString(
  SUBJECT,
  'a service-account subject "system:serviceaccount:<namespace>:<name>" (a wildcard only as a whole segment: <namespace>:* or *:<name>)',
  {
    wildcards: true,
  },
).superRefine((value, ctx) => {
  const m = SUBJECT.exec(value);
  if (!m) return;
  const [, ns, name] = m as unknown as [string, string, string];
  if (ns === '*' && name === '*') {
    ctx.addIssue({ code: 'custom', message: 'the subject must not be only wildcards (that would trust every service account in every namespace)' });
    return;
  }
  for (const [what, seg] of [
    ['namespace', ns],
    ['name', name],
  ] as const) {
    if (seg !== '*' && hasWildcard(seg)) ctx.addIssue({ code: 'custom', message: `${what} segment ${JSON.stringify(seg)}: ${WHOLE_SEGMENT_WILDCARDS}` });
  }
  if (!hasWildcard(ns) && !DNS_LABEL.test(ns))
    ctx.addIssue({ code: 'custom', message: `namespace segment ${JSON.stringify(ns)} is not a Kubernetes namespace name` });
  if (!hasWildcard(name) && !DNS_SUBDOMAIN.test(name))
    ctx.addIssue({ code: 'custom', message: `name segment ${JSON.stringify(name)} is not a Kubernetes service-account name` });
});

const clusterSchema = z.strictObject({
  name: safeString(EKS_CLUSTER, 'an EKS cluster name (letters, digits, "-" and "_", at most 100 characters, starting with a letter or digit)'),
  region: safeString(REGION, 'an AWS region such as us-west-2').optional(),
});

/** How a pod gets its role: IRSA (OIDC web identity, the annotation) or EKS Pod Identity (an association). */
export const MECHANISMS = ['irsa', 'pod-identity'] as const;
export type Mechanism = (typeof MECHANISMS)[number];
const mechanismSchema = z.enum(MECHANISMS, { error: (issue) => `must be one of ${MECHANISMS.join(', ')}; got ${JSON.stringify(issue.input)}` });

const serviceAccountSchema = z.strictObject({
  /** Namespaces this SA lives in (Kubeflow style); default: the top-level `namespaces`. */
  namespaces: z.array(namespaceSchema).min(1).max(1000).optional(),
  /** Explicit subject patterns, the only place a wildcard is accepted (→ StringLike). */
  subjects: z.array(subjectSchema).min(1).max(100).optional(),
  extra_policy_arns: z.array(safeString(POLICY_ARN, 'an IAM policy ARN such as arn:aws:iam::123456789012:policy/name')).max(20).optional(),
  /** May take over an existing IAM role that lacks our ownership tags. */
  adopt_role: z.boolean().optional(),
  /** May take over an existing Kubernetes service account that lacks our ownership labels. */
  adopt_service_account: z.boolean().optional(),
  /** AWS VM: may take over an existing instance profile that lacks our ownership tags. */
  adopt_instance_profile: z.boolean().optional(),
  role_name: safeString(ROLE_NAME, 'an IAM role name (1-64 characters of letters, digits and +=,.@_-)').optional(),
  /** irsa | pod-identity for this service account (default: the top-level `mechanism`). */
  mechanism: mechanismSchema.optional(),
});

const serviceAccountKey = safeString(IAM_NAME, 'a service-account name or instance-profile name (1-128 characters of letters, digits and +=,.@_-)');

/** zod drops a `__proto__` key silently; refuse it instead of ignoring the entry. */
const refuseProtoKey = (value: unknown, ctx: { addIssue: (issue: { code: 'custom'; message: string; path: PropertyKey[] }) => void }) => {
  if (value !== null && typeof value === 'object' && Object.hasOwn(value, '__proto__')) {
    ctx.addIssue({ code: 'custom', message: 'invalid name: "__proto__" is not a usable name', path: ['__proto__'] });
  }
  return value;
};

export const provisioningSettingsSchema = z.strictObject({
  namespaces: z.array(namespaceSchema).min(1).max(1000).optional(),
  clusters: z
    .array(clusterSchema)
    .min(1)
    .max(20)
    .superRefine((clusters, ctx) => {
      const seen = new Set<string>();
      clusters.forEach((c, i) => {
        const id = `${c.name}\u0000${c.region ?? ''}`;
        if (seen.has(id)) ctx.addIssue({ code: 'custom', message: `duplicate cluster ${c.name}`, path: [i] });
        seen.add(id);
      });
    })
    .optional(),
  default_bucket: bucketSchema.optional(),
  role_name_prefix: safeString(ROLE_PREFIX, `a role name prefix (at most ${ROLE_NAME_PREFIX_MAX} characters of letters, digits and +=,.@_-)`).optional(),
  role_path: safeString(ROLE_PATH, 'an IAM path such as /iam-mapping/ (starts and ends with "/")').optional(),
  trust_policy_quota: z.number().int().min(TRUST_POLICY_QUOTA_MIN).max(TRUST_POLICY_QUOTA_MAX).optional(),
  mechanism: mechanismSchema.optional(),
  service_accounts: z
    .preprocess(refuseProtoKey, z.record(serviceAccountKey, serviceAccountSchema))
    .superRefine((accounts, ctx) => {
      const entries = Object.entries(accounts);
      if (entries.length > 1000) ctx.addIssue({ code: 'custom', message: 'at most 1000 service accounts' });
      const roleNames = new Map<string, string>();
      for (const [name, sa] of entries) {
        sa.subjects?.forEach((subject, i) => {
          const seg = SUBJECT.exec(subject)?.[2];
          if (seg !== undefined && !globMatch(seg, name)) {
            ctx.addIssue({
              code: 'custom',
              message: `subject ${JSON.stringify(subject)} does not match service account ${JSON.stringify(name)}: its name segment must name (or match) it`,
              path: [name, 'subjects', i],
            });
          }
        });
        if (sa.role_name !== undefined) {
          const other = roleNames.get(sa.role_name.toLowerCase());
          if (other !== undefined) {
            ctx.addIssue({
              code: 'custom',
              message: `role name ${sa.role_name} is already used by service account ${other} (IAM role names ignore case)`,
              path: [name, 'role_name'],
            });
          } else roleNames.set(sa.role_name.toLowerCase(), name);
        }
      }
    })
    .optional(),
  /** AWS VM: the control plane's IAM role (ARN or name), checked to be allowed to iam:PassRole each instance-profile role to EC2. */
  control_plane_role: safeString(
    ROLE_ARN_OR_NAME,
    'an IAM role ARN such as arn:aws:iam::123456789012:role/anyscale-control-plane, or a role name (1-64 characters of letters, digits and +=,.@_-)',
  ).optional(),
  drift: z
    .strictObject({
      mode: z.enum(['off', 'report', 'repair']).optional(),
      delete_orphans: z.boolean().optional(),
    })
    .optional(),
  /** Google Cloud clouds only (lib/provisioning/gcp-settings.ts). */
  gcp: gcpSettingsSchema.optional(),
});

export type ProvisioningSettings = z.infer<typeof provisioningSettingsSchema>;

export type DriftMode = 'off' | 'report' | 'repair';

export interface ResolvedServiceAccountSettings {
  /** null: the top-level namespaces. */
  namespaces: string[] | null;
  subjects: string[];
  extraPolicyArns: string[];
  adoptRole: boolean;
  adoptServiceAccount: boolean;
  adoptInstanceProfile: boolean;
  roleName: string | null;
  /** null: the top-level mechanism. */
  mechanism?: Mechanism | null;
}

export interface ResolvedSettings {
  namespaces: string[];
  /** Clusters to trust (to be resolved to OIDC providers by the caller). */
  clusters: Array<{ name: string; region: string | null }>;
  defaultBucket: string | null;
  roleNamePrefix: string;
  rolePath: string;
  trustPolicyQuota: number;
  /** How identities are bound to pods; absent: irsa (the default). */
  mechanism?: Mechanism;
  /** Overrides by rule value; look up with serviceAccountSettings(). */
  serviceAccounts: Record<string, ResolvedServiceAccountSettings>;
  drift: { mode: DriftMode; deleteOrphans: boolean };
  /** AWS VM: the control plane's role (an ARN, or a name when the deployment lists no ARN for it); absent: not checked. */
  controlPlaneRole?: string;
  /** `provisioning.gcp` with its defaults; present when the section has one or the deployment has a GCP project. */
  gcp?: ResolvedGcpSettings;
}

/**
 * What the deployment allows a config to ask for (deploy parameters; checked at PUT, see
 * deploymentIssues): the deployed provisioning role's IAM policy enforces the same limits, so a
 * config that passes here is one the role can carry out, and one that does not is refused before
 * anything is stored.
 */
export interface DeploymentRules extends GcpSettingsDefaults {
  /** The role path of the deployment (the provisioning role may only write roles and instance profiles under it). Default `/iam-mapping/`. */
  rolePath?: string;
  /** Managed policies `extra_policy_arns` may name (ALLOWED_POLICY_ARNS). Default: none. */
  allowedPolicyArns?: readonly string[];
  /** Namespaces refused in addition to BUILTIN_PROTECTED_NAMESPACES (PROTECTED_NAMESPACES). */
  protectedNamespaces?: readonly string[];
  /** The permissions boundary every created role carries (PERMISSIONS_BOUNDARY_ARN); none when unset. */
  permissionsBoundaryArn?: string;
  /** IAM's PoliciesPerRole quota of the account (MANAGED_POLICIES_PER_ROLE): managed policies one role may have. Default 10. */
  managedPoliciesPerRole?: number;
  /**
   * Control-plane role ARNs (CONTROL_PLANE_ROLES) the deployment may simulate: the first is the
   * default of configs that name none, and `control_plane_role` must be one of them when any is listed.
   */
  controlPlaneRoles?: readonly string[];
}

/** Values from the environment of the deployment. */
export interface SettingsDefaults extends DeploymentRules {
  /** The EKS cluster of the environment, trusted when `clusters` is not set. */
  clusterName?: string;
  region?: string;
  /** The cloud's default bucket when `default_bucket` is not set. */
  defaultBucket?: string;
}

export const DEFAULT_NAMESPACES: readonly string[] = ['anyscale-operator'];
export const DEFAULT_ROLE_NAME_PREFIX = 'iam-mapping-';
export const DEFAULT_ROLE_PATH = '/iam-mapping/';

const TOP_KEYS = Object.keys(provisioningSettingsSchema.shape);
const SA_KEYS = Object.keys(serviceAccountSchema.shape);
const CLUSTER_KEYS = Object.keys(clusterSchema.shape);
const DRIFT_KEYS = ['mode', 'delete_orphans'];

function allowedKeysAt(path: ReadonlyArray<PropertyKey>): string[] {
  if (path.length === 0) return TOP_KEYS;
  if (path[0] === 'service_accounts' && path.length === 2) return SA_KEYS;
  if (path[0] === 'clusters' && path.length === 2) return CLUSTER_KEYS;
  if (path[0] === 'drift' && path.length === 1) return DRIFT_KEYS;
  return [];
}

const toSegments = (path: ReadonlyArray<PropertyKey>): Array<string | number> => path.map((p) => (typeof p === 'number' ? p : String(p)));

/** Problems with a raw `provisioning` section, each with the dotted path of the field ([] = valid). */
export function provisioningSettingsIssues(raw: unknown, basePath = 'provisioning'): ErrorDetail[] {
  const result = provisioningSettingsSchema.safeParse(raw);
  if (result.success) return [];
  const details: ErrorDetail[] = [];
  for (const issue of result.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeysAt(issue.path);
      for (const key of issue.keys) {
        details.push({
          path: formatPath(toSegments([...issue.path, key]), basePath),
          message: `unknown field ${JSON.stringify(key)}${allowed.length ? `; expected one of: ${allowed.join(', ')}` : ''}`,
        });
      }
    } else if (issue.code === 'invalid_key') {
      const inner = issue.issues.map((i) => i.message).join('; ');
      details.push({ path: formatPath(toSegments(issue.path), basePath), message: `invalid name: ${inner}` });
    } else {
      details.push({ path: formatPath(toSegments(issue.path), basePath), message: issue.message });
    }
  }
  return details;
}

/**
 * Validates a raw `provisioning` section (undefined/null = absent) and applies the defaults.
 * Throws AppError INVALID_CONFIG with one detail per problem.
 */
export function parseProvisioningSettings(raw: unknown, defaults: SettingsDefaults = {}, basePath = 'provisioning'): ResolvedSettings {
  if (raw === undefined || raw === null) return resolveSettings(undefined, defaults);
  const details = provisioningSettingsIssues(raw, basePath);
  if (details.length > 0) throw new AppError('INVALID_CONFIG', `invalid ${basePath}: ${details[0]?.path} ${details[0]?.message}`, details);
  return resolveSettings(provisioningSettingsSchema.parse(raw), defaults);
}

const uniq = <T>(xs: readonly T[]): T[] => [...new Set(xs)];

/** Applies the defaults to a validated section. Values from `defaults` are validated too. */
export function resolveSettings(settings: ProvisioningSettings | undefined, defaults: SettingsDefaults = {}): ResolvedSettings {
  const s = settings ?? {};
  const envIssues: ErrorDetail[] = [];
  const check = (ok: boolean, path: string, message: string) => {
    if (!ok) envIssues.push({ path, message });
  };
  if (s.clusters === undefined && defaults.clusterName !== undefined) {
    check(EKS_CLUSTER.test(defaults.clusterName), 'environment.clusterName', `must be an EKS cluster name, got ${JSON.stringify(defaults.clusterName)}`);
  }
  if (defaults.region !== undefined) check(REGION.test(defaults.region), 'environment.region', `must be an AWS region, got ${JSON.stringify(defaults.region)}`);
  if (s.default_bucket === undefined && defaults.defaultBucket !== undefined) {
    const problem = s3BucketProblem(defaults.defaultBucket);
    check(problem === null, 'environment.defaultBucket', problem ?? '');
  }
  (defaults.controlPlaneRoles ?? []).forEach((arn, i) =>
    check(ROLE_ARN.test(arn), `environment.controlPlaneRoles[${i}]`, `must be an IAM role ARN, got ${JSON.stringify(arn)}`),
  );
  if (envIssues.length > 0) throw new AppError('INVALID_CONFIG', `invalid provisioning defaults: ${envIssues[0]?.path} ${envIssues[0]?.message}`, envIssues);

  const clusters =
    s.clusters !== undefined
      ? s.clusters.map((c) => ({ name: c.name, region: c.region ?? defaults.region ?? null }))
      : defaults.clusterName
        ? [{ name: defaults.clusterName, region: defaults.region ?? null }]
        : [];
  const serviceAccounts: Record<string, ResolvedServiceAccountSettings> = {};
  for (const [name, sa] of Object.entries(s.service_accounts ?? {})) {
    serviceAccounts[name] = {
      namespaces: sa.namespaces ? uniq(sa.namespaces) : null,
      subjects: uniq(sa.subjects ?? []),
      extraPolicyArns: uniq(sa.extra_policy_arns ?? []),
      adoptRole: sa.adopt_role ?? false,
      adoptServiceAccount: sa.adopt_service_account ?? false,
      adoptInstanceProfile: sa.adopt_instance_profile ?? false,
      roleName: sa.role_name ?? null,
      ...(sa.mechanism !== undefined ? { mechanism: sa.mechanism } : {}),
    };
  }
  return {
    namespaces: uniq(s.namespaces ?? DEFAULT_NAMESPACES),
    clusters,
    defaultBucket: s.default_bucket ?? defaults.defaultBucket ?? null,
    roleNamePrefix: s.role_name_prefix ?? DEFAULT_ROLE_NAME_PREFIX,
    rolePath: s.role_path ?? defaults.rolePath ?? DEFAULT_ROLE_PATH,
    trustPolicyQuota: s.trust_policy_quota ?? TRUST_POLICY_QUOTA_DEFAULT,
    ...(s.mechanism !== undefined ? { mechanism: s.mechanism } : {}),
    serviceAccounts,
    drift: { mode: s.drift?.mode ?? 'report', deleteOrphans: s.drift?.delete_orphans ?? false },
    ...controlPlaneRoleOf(s.control_plane_role, defaults.controlPlaneRoles ?? []),
    ...(s.gcp !== undefined || defaults.gcpProject !== undefined ? { gcp: resolveGcpSettings(s.gcp, defaults) } : {}),
  };
}

/** The role name of a role ARN (its last path segment), or the name itself. */
export const roleNameOf = (arnOrName: string): string => arnOrName.slice(arnOrName.lastIndexOf('/') + 1);

/** The control-plane role in effect: the config's (as the deployment's listed ARN when it names one by name), else the deployment's first. */
function controlPlaneRoleOf(named: string | undefined, listed: readonly string[]): { controlPlaneRole?: string } {
  if (named === undefined) return listed[0] !== undefined ? { controlPlaneRole: listed[0] } : {};
  if (ROLE_ARN.test(named)) return { controlPlaneRole: named };
  const arn = listed.find((a) => roleNameOf(a).toLowerCase() === named.toLowerCase());
  return { controlPlaneRole: arn ?? named };
}

export interface EffectiveServiceAccountSettings extends Omit<ResolvedServiceAccountSettings, 'namespaces' | 'mechanism'> {
  namespaces: string[];
  /** The mechanism in effect (the override, else the top-level one). */
  mechanism: Mechanism;
  /** Config path of the namespaces in effect (for error messages). */
  namespacesPath: string;
  /** Whether the config has an entry for this value. */
  overridden: boolean;
}

/** The settings in effect for one rule value (its overrides over the top-level defaults). */
export function serviceAccountSettings(settings: ResolvedSettings, name: string): EffectiveServiceAccountSettings {
  const o = Object.hasOwn(settings.serviceAccounts, name) ? settings.serviceAccounts[name] : undefined;
  return {
    namespaces: o?.namespaces ?? settings.namespaces,
    namespacesPath: o?.namespaces ? formatPath(['service_accounts', name, 'namespaces'], 'provisioning') : 'provisioning.namespaces',
    subjects: o?.subjects ?? [],
    extraPolicyArns: o?.extraPolicyArns ?? [],
    adoptRole: o?.adoptRole ?? false,
    adoptServiceAccount: o?.adoptServiceAccount ?? false,
    adoptInstanceProfile: o?.adoptInstanceProfile ?? false,
    roleName: o?.roleName ?? null,
    mechanism: o?.mechanism ?? settings.mechanism ?? 'irsa',
    overridden: o !== undefined,
  };
}

/** A problem found by deploymentIssues, with its path as parts (for YAML line lookup). */
export interface DeploymentIssue {
  pathParts: Array<string | number>;
  message: string;
}

/**
 * What a `provisioning` section asks for that the deployment does not allow: a role path outside
 * the deployment's, `extra_policy_arns` outside the allow-list, and protected namespaces (in
 * `namespaces`, a service account's `namespaces`, or a subject's namespace segment). Reads the
 * section defensively (it may not have passed the schema), so these are reported together with
 * shape errors. Paths are relative to the config document (`provisioning.…`).
 */
export function deploymentIssues(settings: unknown, rules: DeploymentRules = {}): DeploymentIssue[] {
  if (!isObject(settings)) return [];
  const issues: DeploymentIssue[] = [];
  const add = (pathParts: Array<string | number>, message: string) => issues.push({ pathParts: ['provisioning', ...pathParts], message });
  const rolePath = rules.rolePath ?? DEFAULT_ROLE_PATH;
  if (typeof settings.role_path === 'string' && !settings.role_path.startsWith(rolePath)) {
    add(['role_path'], `must be ${rolePath} or a path under it: this deployment may only create roles and instance profiles under ${rolePath}`);
  }
  const protectedSet = new Set([...BUILTIN_PROTECTED_NAMESPACES, ...(rules.protectedNamespaces ?? [])]);
  const protectedText = [...protectedSet].join(', ');
  const strings = (v: unknown): Array<[number, string]> =>
    Array.isArray(v) ? v.flatMap((x, i): Array<[number, string]> => (typeof x === 'string' ? [[i, x]] : [])) : [];
  const checkNamespaces = (pathParts: Array<string | number>, list: unknown) => {
    for (const [i, ns] of strings(list)) {
      if (protectedSet.has(ns)) add([...pathParts, i], `namespace ${ns} is protected (${protectedText}): no identity of this service may live there`);
    }
  };
  checkNamespaces(['namespaces'], settings.namespaces);
  const controlPlaneRoles = rules.controlPlaneRoles ?? [];
  if (typeof settings.control_plane_role === 'string' && controlPlaneRoles.length > 0) {
    const named = settings.control_plane_role;
    const listed = ROLE_ARN.test(named)
      ? controlPlaneRoles.includes(named)
      : controlPlaneRoles.some((a) => roleNameOf(a).toLowerCase() === named.toLowerCase());
    if (!listed) {
      add(
        ['control_plane_role'],
        `${named} is not one of the deployment's control-plane roles (${controlPlaneRoles.join(', ')}): the service may check only those (deploy parameter controlPlaneRoles)`,
      );
    }
  }
  const allowed = new Set(rules.allowedPolicyArns ?? []);
  const accounts = isObject(settings.service_accounts) ? Object.entries(settings.service_accounts) : [];
  for (const [name, sa] of accounts) {
    if (!isObject(sa)) continue;
    checkNamespaces(['service_accounts', name, 'namespaces'], sa.namespaces);
    for (const [i, subject] of strings(sa.subjects)) {
      const ns = SUBJECT.exec(subject)?.[1];
      if (ns !== undefined && ns !== '*' && protectedSet.has(ns)) {
        add(
          ['service_accounts', name, 'subjects', i],
          `namespace ${ns} is protected (${protectedText}): no identity of this service may trust its service accounts`,
        );
      }
    }
    const perRole = rules.managedPoliciesPerRole ?? POLICIES_PER_ROLE_DEFAULT;
    const distinct = new Set(strings(sa.extra_policy_arns).map(([, arn]) => arn)).size;
    if (distinct > perRole) {
      add(
        ['service_accounts', name, 'extra_policy_arns'],
        `names ${distinct} managed policies; IAM attaches at most ${perRole} to one role in this account (its PoliciesPerRole quota, deploy parameter managedPoliciesPerRole)`,
      );
    }
    for (const [i, arn] of strings(sa.extra_policy_arns)) {
      if (!allowed.has(arn)) {
        const list = allowed.size > 0 ? `allowed: ${[...allowed].join(', ')}` : 'this deployment allows none (deploy parameter allowedPolicyArns)';
        add(['service_accounts', name, 'extra_policy_arns', i], `${arn} is not in the deployment's allow-list of managed policies (${list})`);
      }
    }
  }
  return issues;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
