import { globMatch, hasWildcard } from './glob.js';

/** IAM policy documents (the subset this service writes and evaluates). */
export type PolicyValue = string | string[];
export type ConditionBlock = Record<string, Record<string, PolicyValue>>;

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: '*' | Record<string, PolicyValue>;
  NotPrincipal?: '*' | Record<string, PolicyValue>;
  Action?: PolicyValue;
  NotAction?: PolicyValue;
  Resource?: PolicyValue;
  NotResource?: PolicyValue;
  Condition?: ConditionBlock;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

export const POLICY_VERSION = '2012-10-17' as const;
export const STS_AUDIENCE = 'sts.amazonaws.com';
export const WEB_IDENTITY_ACTION = 'sts:AssumeRoleWithWebIdentity';
export const ASSUME_ROLE_ACTION = 'sts:AssumeRole';
export const EC2_SERVICE_PRINCIPAL = 'ec2.amazonaws.com';
/** Name of the inline permission policy every provisioned role gets (seed 002). */
export const DEFAULT_BUCKET_POLICY_NAME = 'iam-mapping-default-bucket';

/** What a trust policy (built here, or compared by a drift check) needs to know about one EKS cluster. */
export interface TrustCluster {
  /** The cluster's name (for messages). */
  name: string;
  /** `arn:aws:iam::<account>:oidc-provider/<issuerHost>` */
  oidcProviderArn: string;
  /** The issuer URL without `https://`, e.g. `oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE...`. */
  issuerHost: string;
}

/** `system:serviceaccount:<namespace>:<name>`: the `sub` claim of a projected SA token. */
export function serviceAccountSubject(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

/** Single value as a scalar, several as a list (IAM accepts both; the scalar is shorter). */
export function oneOrList(values: readonly string[]): PolicyValue {
  return values.length === 1 ? (values[0] as string) : [...values];
}

/**
 * Subjects in first-appearance order without duplicates, and without exact subjects that a
 * wildcard subject of the same list already matches (removing them changes nothing: the list is
 * any-of). Never adds anything.
 */
export function normaliseSubjects(subjects: readonly string[]): string[] {
  const unique = [...new Set(subjects)];
  const patterns = unique.filter(hasWildcard);
  return unique.filter((s) => hasWildcard(s) || !patterns.some((p) => globMatch(p, s)));
}

/**
 * IRSA trust policy: one statement per cluster (per OIDC provider), `aud` pinned to STS with
 * `StringEquals`, `sub` = the subjects. Exact subjects only → `sub` under `StringEquals`; when the
 * config names a wildcard subject, `sub` goes under `StringLike` (exact subjects there still match
 * only themselves: they contain no `*`/`?`/`$`). Clusters are deduplicated by provider ARN.
 */
export function buildWebIdentityTrustPolicy(clusters: readonly TrustCluster[], subjects: readonly string[]): PolicyDocument {
  const subs = normaliseSubjects(subjects);
  if (subs.length === 0) throw new RangeError('a trust policy needs at least one subject');
  const wildcard = subs.some(hasWildcard);
  const seen = new Set<string>();
  const statements: PolicyStatement[] = [];
  for (const cluster of clusters) {
    if (seen.has(cluster.oidcProviderArn)) continue;
    seen.add(cluster.oidcProviderArn);
    const aud = `${cluster.issuerHost}:aud`;
    const sub = `${cluster.issuerHost}:sub`;
    const Condition: ConditionBlock = wildcard
      ? { StringEquals: { [aud]: STS_AUDIENCE }, StringLike: { [sub]: oneOrList(subs) } }
      : { StringEquals: { [aud]: STS_AUDIENCE, [sub]: oneOrList(subs) } };
    statements.push({
      Effect: 'Allow',
      Principal: { Federated: cluster.oidcProviderArn },
      Action: WEB_IDENTITY_ACTION,
      Condition,
    });
  }
  if (statements.length === 0) throw new RangeError('a trust policy needs at least one cluster');
  return { Version: POLICY_VERSION, Statement: statements };
}

/** Trust policy of an EC2 instance-profile role (AWS VM stack). */
export function buildEc2TrustPolicy(): PolicyDocument {
  return {
    Version: POLICY_VERSION,
    Statement: [{ Effect: 'Allow', Principal: { Service: EC2_SERVICE_PRINCIPAL }, Action: ASSUME_ROLE_ACTION }],
  };
}

/** Seed 002: the minimum access every cluster role needs to the cloud's default bucket. */
export function buildDefaultBucketPolicy(bucket: string, partition = 'aws'): PolicyDocument {
  return {
    Version: POLICY_VERSION,
    Statement: [
      { Sid: 'ListObjectsInBucket', Effect: 'Allow', Action: ['s3:ListBucket'], Resource: [`arn:${partition}:s3:::${bucket}`] },
      { Sid: 'AllObjectActions', Effect: 'Allow', Action: 's3:*Object', Resource: [`arn:${partition}:s3:::${bucket}/*`] },
    ],
  };
}

/** Size as IAM counts it against its quotas: the JSON text with all whitespace removed. */
export function policySize(doc: unknown): number {
  return JSON.stringify(doc).replace(/\s+/g, '').length;
}
