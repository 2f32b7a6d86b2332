/**
 * KubernetesPort over @kubernetes/client-node 1.x CoreV1Api: ServiceAccounts (get/list/create/
 * merge-patch/delete) and Namespace existence. The KubeConfig is built in memory (no kubeconfig file);
 * the bearer token may be a function (EKS tokens expire), called per request.
 *
 * | Kubernetes                       | TargetError                                  | retry |
 * | -------------------------------- | -------------------------------------------- | ----- |
 * | 404 on get / namespace read      | null / false                                 |       |
 * | 404 on list (namespace missing)  | []                                           |       |
 * | 404 on delete                    | success (idempotent)                         |       |
 * | 404 on patch                     | ConflictError (deleted meanwhile: re-read)   | yes   |
 * | 404 on create (no namespace)     | InvalidInputError                            | no    |
 * | 409 on create                    | AlreadyExistsError                           | no    |
 * | 409 otherwise (resourceVersion)  | ConflictError                                | yes   |
 * | 410 Gone (expired continue)      | TransientError                               | yes   |
 * | 429                              | ThrottledError                               | yes   |
 * | 5xx, connection errors, timeouts | TransientError                               | yes   |
 * | 401, 403                         | AccessDeniedError                            | no    |
 * | 400, 422                         | InvalidInputError                            | no    |
 * | other                            | UnexpectedTargetError                        | no    |
 */
import { ApiException, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1ServiceAccount } from '@kubernetes/client-node';
import type { KubernetesPort, ServiceAccountInfo } from '../../lib/ports.js';
import { TargetError, accessDenied, isTargetError, alreadyExists, conflict, invalidInput, throttled, transient, unexpected } from '../../lib/target-errors.js';
import { isNetworkError } from '../sdk-errors.js';

export interface KubeServiceAccountsOptions {
  /** API server URL, e.g. `https://ABC.gr7.us-east-1.eks.amazonaws.com` or `http://127.0.0.1:4000/sandbox/k8s`. */
  server: string;
  /** Bearer token, or a function returning a fresh one (called per request). */
  token?: string | (() => Promise<string>);
  /** Base64 PEM of the cluster CA. */
  caData?: string;
  skipTLSVerify?: boolean;
  /** List page size (`limit`). Default 250. */
  pageSize?: number;
}

/** Transport failures, plus node-fetch's shapes of them (client-node 1.x uses node-fetch). */
function isTransportError(err: unknown, depth = 0): boolean {
  if (err === null || typeof err !== 'object' || depth > 4) return false;
  if (isNetworkError(err)) return true;
  const o = err as { name?: unknown; type?: unknown; cause?: unknown; errors?: unknown };
  // node-fetch: FetchError type 'system' (socket errors) / 'request-timeout'; AbortError on timeouts.
  if (o.name === 'FetchError' && (o.type === 'system' || o.type === 'request-timeout' || o.type === 'body-timeout')) return true;
  if (o.name === 'AbortError' || o.name === 'TimeoutError') return true;
  if (Array.isArray(o.errors) && o.errors.some((e) => isTransportError(e, depth + 1))) return true;
  return isTransportError(o.cause, depth + 1);
}

/** The HTTP status of a client-node error, or undefined for transport errors. */
export const statusOf = (err: unknown): number | undefined => (err instanceof ApiException ? err.code : undefined);

/** The Kubernetes Status message (and reason) of an ApiException body. */
function statusMessage(err: ApiException<unknown>): string {
  const body = err.body;
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return body.slice(0, 500) || `HTTP ${err.code}`;
    }
  }
  if (parsed && typeof parsed === 'object') {
    const s = parsed as { message?: unknown; reason?: unknown };
    const reason = typeof s.reason === 'string' ? `${s.reason}: ` : '';
    if (typeof s.message === 'string') return `${reason}${s.message}`;
  }
  return `HTTP ${err.code}`;
}

/** Maps any error of a Kubernetes call to a TargetError (TargetErrors pass through). */
export function mapKubeError(err: unknown, context: string, kind: 'read' | 'create' | 'write' = 'write'): TargetError {
  if (isTargetError(err)) return err;
  if (err instanceof ApiException) {
    const text = `${context}: HTTP ${err.code}: ${statusMessage(err)}`;
    const code = err.code;
    if (code === 409) return kind === 'create' ? alreadyExists(text, err) : conflict(text, err);
    if (code === 429) return throttled(text, err);
    if (code === 410) return transient(text, err);
    if (code >= 500) return transient(text, err);
    if (code === 401 || code === 403) return accessDenied(text, err);
    if (code === 400 || code === 422) return invalidInput(text, err);
    if (code === 404) return invalidInput(text, err);
    return unexpected(text, err);
  }
  const message = err instanceof Error ? err.message : String(err);
  if (isTransportError(err)) return transient(`${context}: ${message}`, err);
  return unexpected(`${context}: ${message}`, err);
}

/** A KubeConfig whose bearer token comes from a function on every request. */
class DynamicTokenKubeConfig extends KubeConfig {
  constructor(private readonly tokenFn: () => Promise<string>) {
    super();
  }
  override async applySecurityAuthentication(context: Parameters<KubeConfig['applySecurityAuthentication']>[0]): Promise<void> {
    await super.applySecurityAuthentication(context);
    context.setHeaderParam('Authorization', `Bearer ${await this.tokenFn()}`);
  }
}

/** An API server URL without trailing slashes (client-node appends `/api/v1/...`: `x/` would give `x//api/v1`). */
export const normaliseServerUrl = (server: string): string => server.replace(/\/+$/, '');

export function buildKubeConfig(options: KubeServiceAccountsOptions): KubeConfig {
  const kc = typeof options.token === 'function' ? new DynamicTokenKubeConfig(options.token) : new KubeConfig();
  const server = normaliseServerUrl(options.server);
  kc.loadFromOptions({
    clusters: [
      {
        name: 'target',
        server,
        // client-node refuses plain http unless skipTLSVerify is set (there is no TLS to verify then).
        skipTLSVerify: options.skipTLSVerify ?? server.startsWith('http://'),
        ...(options.caData ? { caData: options.caData } : {}),
      },
    ],
    users: [{ name: 'target', ...(typeof options.token === 'string' ? { token: options.token } : {}) }],
    contexts: [{ name: 'target', cluster: 'target', user: 'target' }],
    currentContext: 'target',
  });
  return kc;
}

function info(sa: V1ServiceAccount, namespace: string): ServiceAccountInfo {
  const meta = sa.metadata ?? {};
  return {
    namespace: meta.namespace ?? namespace,
    name: meta.name ?? '',
    annotations: { ...(meta.annotations ?? {}) },
    labels: { ...(meta.labels ?? {}) },
    resourceVersion: meta.resourceVersion ?? '',
    ...(meta.uid ? { uid: meta.uid } : {}),
  };
}

export class KubeServiceAccounts implements KubernetesPort {
  readonly api: CoreV1Api;
  private readonly pageSize: number;

  constructor(options: KubeServiceAccountsOptions | { api: CoreV1Api; pageSize?: number }) {
    this.api = 'api' in options ? options.api : buildKubeConfig(options).makeApiClient(CoreV1Api);
    this.pageSize = options.pageSize ?? 250;
  }

  async getServiceAccount(namespace: string, name: string): Promise<ServiceAccountInfo | null> {
    try {
      return info(await this.api.readNamespacedServiceAccount({ namespace, name }), namespace);
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw mapKubeError(err, `Kubernetes get serviceaccount ${namespace}/${name}`, 'read');
    }
  }

  async listServiceAccounts(namespace: string, labelSelector?: string): Promise<ServiceAccountInfo[]> {
    const out: ServiceAccountInfo[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.api.listNamespacedServiceAccount({
          namespace,
          limit: this.pageSize,
          ...(labelSelector ? { labelSelector } : {}),
          ...(token ? { _continue: token } : {}),
        });
        out.push(...page.items.map((sa) => info(sa, namespace)));
        token = page.metadata?._continue || undefined;
      } while (token);
    } catch (err) {
      if (statusOf(err) === 404) return [];
      throw mapKubeError(err, `Kubernetes list serviceaccounts ${namespace}`, 'read');
    }
    return out;
  }

  async listServiceAccountsInAllNamespaces(labelSelector: string, options: { excludeNamespaces?: readonly string[] } = {}): Promise<ServiceAccountInfo[]> {
    const out: ServiceAccountInfo[] = [];
    let token: string | undefined;
    // Namespaces already listed in full are left out server-side while the selector stays short.
    const exclude = options.excludeNamespaces ?? [];
    const fieldSelector = exclude.length > 0 && exclude.length <= 50 ? exclude.map((ns) => `metadata.namespace!=${ns}`).join(',') : undefined;
    try {
      do {
        const page = await this.api.listServiceAccountForAllNamespaces({
          limit: this.pageSize,
          labelSelector,
          ...(fieldSelector ? { fieldSelector } : {}),
          ...(token ? { _continue: token } : {}),
        });
        out.push(...page.items.map((sa) => info(sa, sa.metadata?.namespace ?? '')));
        token = page.metadata?._continue || undefined;
      } while (token);
    } catch (err) {
      throw mapKubeError(err, `Kubernetes list serviceaccounts (all namespaces, ${labelSelector})`, 'read');
    }
    return out;
  }

  async createServiceAccount(input: {
    namespace: string;
    name: string;
    annotations: Record<string, string>;
    labels: Record<string, string>;
  }): Promise<ServiceAccountInfo> {
    const context = `Kubernetes create serviceaccount ${input.namespace}/${input.name}`;
    try {
      const created = await this.api.createNamespacedServiceAccount({
        namespace: input.namespace,
        body: {
          apiVersion: 'v1',
          kind: 'ServiceAccount',
          metadata: { name: input.name, namespace: input.namespace, annotations: input.annotations, labels: input.labels },
        },
      });
      return info(created, input.namespace);
    } catch (err) {
      if (statusOf(err) === 404) throw invalidInput(`${context}: namespace ${input.namespace} does not exist`, err);
      throw mapKubeError(err, context, 'create');
    }
  }

  async patchServiceAccountMetadata(input: {
    namespace: string;
    name: string;
    resourceVersion: string;
    annotations?: Record<string, string | null>;
    labels?: Record<string, string | null>;
  }): Promise<ServiceAccountInfo> {
    const context = `Kubernetes patch serviceaccount ${input.namespace}/${input.name}`;
    const metadata: Record<string, unknown> = { resourceVersion: input.resourceVersion };
    if (input.annotations !== undefined) metadata.annotations = input.annotations;
    if (input.labels !== undefined) metadata.labels = input.labels;
    try {
      const patched = await this.api.patchNamespacedServiceAccount(
        { namespace: input.namespace, name: input.name, body: { metadata } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      return info(patched, input.namespace);
    } catch (err) {
      // Deleted since it was read: the caller re-reads (and re-creates).
      if (statusOf(err) === 404) throw conflict(`${context}: not found (deleted concurrently?)`, err);
      throw mapKubeError(err, context, 'write');
    }
  }

  async deleteServiceAccount(namespace: string, name: string): Promise<void> {
    try {
      await this.api.deleteNamespacedServiceAccount({ namespace, name });
    } catch (err) {
      if (statusOf(err) === 404) return;
      throw mapKubeError(err, `Kubernetes delete serviceaccount ${namespace}/${name}`, 'write');
    }
  }

  async namespaceExists(namespace: string): Promise<boolean> {
    try {
      await this.api.readNamespace({ name: namespace });
      return true;
    } catch (err) {
      if (statusOf(err) === 404) return false;
      throw mapKubeError(err, `Kubernetes get namespace ${namespace}`, 'read');
    }
  }
}
