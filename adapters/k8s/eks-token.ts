/**
 * EKS bearer tokens, as `aws eks get-token` / aws-iam-authenticator make them: a SigV4 query-signed
 * STS `GetCallerIdentity` URL (60 s expiry, the `x-k8s-aws-id: <cluster>` header signed), base64url
 * encoded without padding and prefixed `k8s-aws-v1.`. EKS accepts such a token for 15 minutes; it is
 * cached for 10 (less if the credentials expire sooner).
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { STSClient } from '@aws-sdk/client-sts';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, Checksum, SourceData } from '@smithy/types';

export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
const PRESIGN_EXPIRES_SECONDS = 60;
const CACHE_TTL_MS = 10 * 60_000;

export interface EksTokenOptions {
  clusterName: string;
  region: string;
  /** Static credentials or a provider; default: the STS client's default provider chain. */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Signing time (tests); a token with a fixed date is never cached. */
  signingDate?: Date;
}

const toBuffer = (data: SourceData): Buffer =>
  typeof data === 'string'
    ? Buffer.from(data, 'utf8')
    : ArrayBuffer.isView(data)
      ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      : Buffer.from(data);

/** SHA-256 / HMAC-SHA-256 over node:crypto, in the shape SignatureV4 expects. */
class NodeSha256 implements Checksum {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.create();
  }
  private create(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(this.secret));
  }
  update(data: SourceData): void {
    this.hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.create();
  }
}

export const stsHost = (region: string): string => `sts.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;

const rfc3986 = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const defaultProviders = new Map<string, AwsCredentialIdentityProvider>();
/** The default credential provider chain, as the STS client resolves it (memoized per region). */
function defaultCredentials(region: string): AwsCredentialIdentityProvider {
  let provider = defaultProviders.get(region);
  if (!provider) {
    const client = new STSClient({ region });
    provider = () => client.config.credentials();
    defaultProviders.set(region, provider);
  }
  return provider;
}

/** Builds one token (no cache). Returns the token and when the credentials it was signed with expire. */
export async function presignEksToken(options: EksTokenOptions): Promise<{ token: string; url: string; credentialsExpireAt?: Date }> {
  const provider = options.credentials ?? defaultCredentials(options.region);
  const credentials = typeof provider === 'function' ? await provider() : provider;
  const signer = new SignatureV4({ credentials, region: options.region, service: 'sts', sha256: NodeSha256, uriEscapePath: true, applyChecksum: false });
  const hostname = stsHost(options.region);
  const signed = await signer.presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: hostname, [CLUSTER_ID_HEADER]: options.clusterName },
    },
    { expiresIn: PRESIGN_EXPIRES_SECONDS, ...(options.signingDate ? { signingDate: options.signingDate } : {}) },
  );
  const query = Object.entries(signed.query ?? {})
    .flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x] as const) : v === null || v === undefined ? [] : [[k, v] as const]))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${rfc3986(k)}=${rfc3986(String(v))}`)
    .join('&');
  const url = `https://${hostname}/?${query}`;
  const token = EKS_TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url');
  return { token, url, ...(credentials.expiration ? { credentialsExpireAt: credentials.expiration } : {}) };
}

const cache = new Map<string, { token: string; expiresAt: number }>();
const providerIds = new WeakMap<object, number>();
let nextProviderId = 0;
const providerId = (fn: object): number => {
  let id = providerIds.get(fn);
  if (id === undefined) providerIds.set(fn, (id = ++nextProviderId));
  return id;
};
const inflight = new Map<string, Promise<string>>();

/** A bearer token for an EKS cluster's API server (cached ~10 min per cluster, region and credentials). */
export async function eksToken(options: EksTokenOptions): Promise<string> {
  if (options.signingDate) return (await presignEksToken(options)).token;
  const creds = options.credentials;
  const who = creds === undefined ? 'default' : typeof creds === 'function' ? `provider#${providerId(creds)}` : creds.accessKeyId;
  const key = `${options.region}\u0000${options.clusterName}\u0000${who}`;
  const now = Date.now();
  const hit = cache.get(key);
  if (hit && hit.expiresAt > now) return hit.token;
  let pending = inflight.get(key);
  if (!pending) {
    pending = presignEksToken(options)
      .then(({ token, credentialsExpireAt }) => {
        const credLimit = credentialsExpireAt ? credentialsExpireAt.getTime() - 60_000 : Infinity;
        const expiresAt = Math.min(now + CACHE_TTL_MS, credLimit);
        if (expiresAt > Date.now()) cache.set(key, { token, expiresAt });
        return token;
      })
      .finally(() => inflight.delete(key));
    inflight.set(key, pending);
  }
  return pending;
}

/** A token function for KubeServiceAccounts (`token: eksTokenProvider({...})`). */
export const eksTokenProvider =
  (options: Omit<EksTokenOptions, 'signingDate'>): (() => Promise<string>) =>
  () =>
    eksToken(options);

/** Drops cached tokens (tests; or after a 401). */
export function clearEksTokenCache(): void {
  cache.clear();
}
