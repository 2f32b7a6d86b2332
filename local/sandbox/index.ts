/**
 * Local sandbox: built-in emulators for the outside systems the service provisions into, served
 * under one HTTP prefix so the AWS CLI and kubectl can inspect them:
 *
 *   <base>/sandbox/aws  — IAM + STS (query protocol, POST /) and EKS (REST-JSON, GET /clusters/{name},
 *                         pod identity associations, add-ons, tags: eks-pod-identity.ts)
 *   <base>/sandbox/k8s  — Kubernetes core/v1 Namespaces and ServiceAccounts of the EKS clusters
 *   <base>/sandbox/gke  — the same API of the GKE clusters: another cluster, another store (a
 *                         ServiceAccount there is not the EKS cluster's of the same name)
 *   <base>/sandbox/gcp  — Google Cloud: IAM v1 service accounts + policies, Cloud Storage buckets + bucket IAM
 *
 * Every request is recorded in `calls`; latency and faults can be injected per call.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CallLog } from './calls.js';
import { EksState, eksOperation, type EksSnapshot } from './eks.js';
import { IamState, type IamSnapshot } from './iam-state.js';
import { QueryParams, queryOperation } from './iam.js';
import { K8sState, type K8sSnapshot } from './k8s-state.js';
import { k8sOperation } from './k8s.js';
import { gcpOperation } from './gcp.js';
import { GcpState, type GcpSandboxOptions, type GcpSnapshot } from './gcp-state.js';
import type { CallInfo, ClusterSpec, FaultInjector, LatencySpec, Operation, Reply } from './types.js';
import { readBody, sleep } from './util.js';
import { FUNCTION_HEADER } from '../function-context.js';

export type { CallInfo, CallRecord, ClusterSpec, FaultInjector, FaultSpec, LatencySpec, SandboxService } from './types.js';
export type { CallFilter } from './calls.js';
export { CallLog } from './calls.js';
export { IamState, LIMITS as IAM_LIMITS } from './iam-state.js';
export type { RoleRecord, InstanceProfileRecord, ManagedPolicyRecord, OidcProviderRecord, Tag } from './iam-state.js';
export { EksState, defaultIssuer } from './eks.js';
export type { ClusterRecord } from './eks.js';
export { POD_IDENTITY_AGENT } from './eks-pod-identity.js';
export type { AssociationRecord, AddonRecord } from './eks-pod-identity.js';
export { K8sState } from './k8s-state.js';
export type { K8sObject } from './k8s-resources.js';
export { faults } from './faults.js';
export { GcpState, GCP_DEFAULT_BUCKET, GCP_DEFAULT_PROJECT, gcpControlPlaneAccount, gcpSandboxOptionsFromEnv } from './gcp-state.js';
export type { GcpSandboxOptions, GcpSnapshot, ServiceAccountRecord as GcpServiceAccountRecord, BucketRecord as GcpBucketRecord } from './gcp-state.js';
import { faults as faultsLib } from './faults.js';

export const SANDBOX_SNAPSHOT_VERSION = 1;

export interface SandboxSnapshot {
  version: typeof SANDBOX_SNAPSHOT_VERSION;
  accountId: string;
  region: string;
  iam: IamSnapshot;
  eks: EksSnapshot;
  k8s: K8sSnapshot;
  /** The GKE clusters' Kubernetes; absent in snapshots written before it was its own store. */
  gke?: K8sSnapshot;
  /** Absent in snapshots written before the Google Cloud sandbox existed. */
  gcp?: GcpSnapshot;
}

/**
 * Persistence hooks: `load` once at creation; `save` after every committed write (and after
 * `reset`). `save` gets a function that takes the snapshot, so a hook that batches writes
 * copies the state only when it actually writes.
 */
export interface SandboxStateHooks {
  load?(): SandboxSnapshot | string | undefined | null;
  save?(snapshot: () => SandboxSnapshot): void | Promise<void>;
}

export interface SandboxOptions {
  /** Default `123456789012`. */
  accountId?: string;
  /** Default `us-east-1`. */
  region?: string;
  /** EKS clusters (default one cluster `sandbox`); each gets an IAM OIDC provider. */
  clusters?: ClusterSpec[];
  /** Namespaces present initially (default `default`, `anyscale-operator`). */
  namespaces?: string[];
  /** Injected delay per call (ms, or a function of the call). */
  latencyMs?: LatencySpec;
  faults?: FaultInjector;
  state?: SandboxStateHooks;
  /**
   * IAM's rate limit on mutating calls (CreateRole, PutRolePolicy, …), per second: beyond it IAM
   * answers 400 `Throttling` (a token bucket, one second of burst). Default: no limit.
   */
  iamMutatingRatePerSecond?: number;
  /** Reject trust policies naming a missing OIDC provider of this account (IAM does). Default true. */
  strictPrincipals?: boolean;
  /**
   * Model the deployment's permissions boundary: the boundary managed policy exists, and CreateRole
   * (or PutRolePermissionsBoundary) under `pathPrefix` without exactly that boundary is AccessDenied,
   * as the deployed provisioning role's policy makes it. Default off; `npm start` turns it on.
   */
  permissionsBoundary?: boolean | { policyName?: string; pathPrefix?: string };
  /** Google Cloud: projects, buckets (default `anyscale-sandbox-bucket`) and existing service accounts. */
  gcp?: GcpSandboxOptions;
  /** Google's rate limit on mutating IAM / Storage calls, per second: beyond it 429 RESOURCE_EXHAUSTED. Default: no limit. */
  gcpMutatingRatePerSecond?: number;
}

export interface Sandbox {
  readonly accountId: string;
  readonly region: string;
  /** ARN of the modelled permissions boundary (when the option is on). */
  readonly permissionsBoundaryArn: string | undefined;
  /** Serves one request; `subpath` is the part of the URL after `/sandbox` (e.g. `/aws/`, `/k8s/api/v1/...`). */
  handle(req: IncomingMessage, res: ServerResponse, subpath: string): Promise<void>;
  readonly iam: IamState;
  readonly eks: EksState;
  /** Kubernetes of the EKS clusters (`/sandbox/k8s`). */
  readonly k8s: K8sState;
  /** Kubernetes of the GKE clusters (`/sandbox/gke`). */
  readonly gke: K8sState;
  readonly gcp: GcpState;
  readonly calls: CallLog;
  setFaults(faults: FaultInjector | undefined): void;
  setLatency(latency: LatencySpec | undefined): void;
  /** Back to the initial state (clusters, OIDC providers, namespaces); clears the call log. */
  reset(): void;
  snapshot(): SandboxSnapshot;
  restore(snapshot: SandboxSnapshot | string): void;
}

const DEFAULT_ACCOUNT = '123456789012';

/** The sandbox's boundary document: the shape of the deployed one (serverless.yml), with S3 on any bucket. */
const LOCAL_BOUNDARY_DOCUMENT = {
  Version: '2012-10-17',
  Statement: [
    { Sid: 'WorkloadData', Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetObject', 's3:PutObject', 's3:DeleteObject'], Resource: '*' },
    { Sid: 'NeverIam', Effect: 'Deny', Action: ['iam:*', 'organizations:*', 'account:*', 'sts:AssumeRole'], Resource: '*' },
  ],
};
const DEFAULT_REGION = 'us-east-1';

/** `Credential=AKID/20240101/us-east-1/sts/aws4_request` → `sts`. */
const signingService = (req: IncomingMessage): string | undefined => /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(req.headers.authorization ?? '')?.[1];
/** `Credential=AKID/…` → `AKID`. */
const accessKeyOf = (req: IncomingMessage): string | undefined => /Credential=([^/,\s]+)\//.exec(req.headers.authorization ?? '')?.[1];

function sendReply(res: ServerResponse, reply: Reply): void {
  if (res.headersSent) return;
  res.writeHead(reply.status, { ...reply.headers, 'content-length': Buffer.byteLength(reply.body) });
  res.end(reply.body);
}

export function createSandbox(options: SandboxOptions = {}): Sandbox {
  const accountId = options.accountId ?? DEFAULT_ACCOUNT;
  const region = options.region ?? DEFAULT_REGION;
  const clusters = options.clusters ?? [{ name: 'sandbox' }];
  const iam = new IamState({ accountId, strictPrincipals: options.strictPrincipals });
  const eks = new EksState(accountId, region, iam);
  const k8s = new K8sState({ namespaces: options.namespaces });
  const gke = new K8sState({ namespaces: options.namespaces });
  const gcp = new GcpState(options.gcp);
  const calls = new CallLog();
  let faults = options.faults;
  let latency = options.latencyMs;
  const iamThrottle = options.iamMutatingRatePerSecond ? faultsLib.rateLimit(options.iamMutatingRatePerSecond, { service: 'iam', mutating: true }) : undefined;
  const gcpThrottle = options.gcpMutatingRatePerSecond ? faultsLib.rateLimit(options.gcpMutatingRatePerSecond, { service: 'gcp', mutating: true }) : undefined;

  const boundary = options.permissionsBoundary
    ? {
        policyName: 'iam-mapping-local-workload-boundary',
        pathPrefix: '/iam-mapping/',
        ...(options.permissionsBoundary === true ? {} : options.permissionsBoundary),
      }
    : undefined;
  const permissionsBoundaryArn = boundary ? `arn:aws:iam::${accountId}:policy/${boundary.policyName}` : undefined;
  iam.boundaryRule = boundary && permissionsBoundaryArn ? { arn: permissionsBoundaryArn, pathPrefix: boundary.pathPrefix } : undefined;
  /** The boundary policy, as the deployment's stack creates it. */
  const seedBoundary = (): void => {
    if (!boundary || !permissionsBoundaryArn || iam.listPolicies().some((p) => p.arn === permissionsBoundaryArn)) return;
    iam.createPolicy({
      policyName: boundary.policyName,
      document: JSON.stringify(LOCAL_BOUNDARY_DOCUMENT),
      description: 'What a workload identity made by iam-mapping may ever do (sandbox)',
    });
  };

  const seedAws = (): void => {
    iam.clear();
    eks.clear();
    for (const c of clusters) eks.addCluster(c);
    seedBoundary();
  };

  const snapshot = (): SandboxSnapshot => ({
    version: SANDBOX_SNAPSHOT_VERSION,
    accountId,
    region,
    iam: iam.snapshot(),
    eks: eks.snapshot(),
    k8s: k8s.snapshot(),
    gke: gke.snapshot(),
    gcp: gcp.snapshot(),
  });

  const restore = (input: SandboxSnapshot | string): void => {
    const snap = (typeof input === 'string' ? JSON.parse(input) : input) as SandboxSnapshot;
    if (snap?.version !== SANDBOX_SNAPSHOT_VERSION) throw new Error(`unsupported sandbox snapshot version: ${String(snap?.version)}`);
    iam.restore(snap.iam);
    eks.restore(snap.eks);
    k8s.restore(snap.k8s);
    if (snap.gke) gke.restore(snap.gke);
    if (snap.gcp) gcp.restore(snap.gcp);
    gcp.seed();
  };

  const persist = async (): Promise<void> => {
    if (!options.state?.save) return;
    try {
      await options.state.save(snapshot);
    } catch (err) {
      console.error('[sandbox] failed to save state', err);
    }
  };

  seedAws();
  const loaded = options.state?.load?.();
  if (loaded) restore(loaded);
  seedBoundary();

  function resolve(req: IncomingMessage, path: string, query: URLSearchParams, body: string): Operation | undefined {
    const method = (req.method ?? 'GET').toUpperCase();
    if (path === '/aws' || path.startsWith('/aws/')) {
      const rest = path.slice('/aws'.length);
      const eksOp = eksOperation(eks, accountId, method, rest, query, body);
      if (eksOp) return eksOp;
      if (rest === '' || rest === '/')
        return queryOperation(iam, QueryParams.parse(method === 'POST' ? body : '', query), signingService(req), accessKeyOf(req));
      return undefined;
    }
    if (path === '/k8s' || path.startsWith('/k8s/')) {
      return k8sOperation(k8s, { method, path: path.slice('/k8s'.length), query, headers: req.headers, body });
    }
    if (path === '/gke' || path.startsWith('/gke/')) {
      return k8sOperation(gke, { method, path: path.slice('/gke'.length), query, headers: req.headers, body });
    }
    if (path.startsWith('/gcp/')) {
      return gcpOperation(gcp, { method, path: path.slice('/gcp'.length), query, headers: req.headers, body });
    }
    return undefined;
  }

  async function handle(req: IncomingMessage, res: ServerResponse, subpath: string): Promise<void> {
    const started = Date.now();
    calls.enter();
    try {
      const url = new URL(subpath || '/', 'http://sandbox');
      const query = subpath.includes('?') ? url.searchParams : new URL(req.url ?? '/', 'http://sandbox').searchParams;
      const body = await readBody(req);
      if (url.pathname === '/calls' && (req.method ?? 'GET').toUpperCase() === 'GET') {
        const since = Number(query.get('since') ?? 0);
        if (!Number.isInteger(since) || since < 0) {
          sendReply(res, {
            status: 400,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ message: 'since must be a non-negative integer' }),
          });
        } else {
          sendReply(res, { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(calls.toJson(since)) });
        }
        return;
      }
      const op = resolve(req, url.pathname, query, body);
      if (!op) {
        const status = url.pathname === '/' ? 200 : 404;
        sendReply(res, {
          status,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(
            status === 200
              ? { aws: '/sandbox/aws', k8s: '/sandbox/k8s', gke: '/sandbox/gke', gcp: '/sandbox/gcp', accountId, region }
              : { message: `No sandbox route for ${url.pathname}` },
          ),
        });
        return;
      }
      const info: CallInfo = { seq: calls.nextSeq(), service: op.service, action: op.action, mutating: op.mutating, params: op.params };
      const caller = req.headers[FUNCTION_HEADER];
      const record = calls.record({ ...info, at: started, ...(typeof caller === 'string' && caller !== '' ? { caller } : {}) });
      const delay = typeof latency === 'function' ? latency(info) : (latency ?? 0);
      if (delay > 0) await sleep(delay);
      const fault = faults?.(info) ?? iamThrottle?.(info) ?? gcpThrottle?.(info) ?? undefined;
      let reply: Reply;
      if (fault && !fault.afterExecute) {
        reply = op.renderFault(fault);
      } else {
        reply = await op.execute();
        if (reply.committed) await persist();
        if (fault) reply = op.renderFault(fault);
      }
      Object.assign(record, {
        status: reply.status,
        errorCode: reply.status >= 400 ? reply.errorCode : undefined,
        faulted: fault ? true : undefined,
        durationMs: Date.now() - started,
      });
      sendReply(res, reply);
    } catch (err) {
      console.error('[sandbox] request failed', err);
      sendReply(res, { status: 500, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'sandbox internal error' }) });
    } finally {
      calls.leave();
    }
  }

  return {
    accountId,
    region,
    permissionsBoundaryArn,
    handle,
    iam,
    eks,
    k8s,
    gke,
    gcp,
    calls,
    setFaults: (f) => {
      faults = f;
    },
    setLatency: (l) => {
      latency = l;
    },
    reset: () => {
      seedAws();
      k8s.reset();
      gke.reset();
      gcp.reset();
      calls.reset();
      void persist();
    },
    snapshot,
    restore: (snap) => {
      restore(snap);
      seedBoundary();
    },
  };
}

export interface SandboxServer {
  /** `http://127.0.0.1:<port>` — the AWS endpoint is `${url}/sandbox/aws`, the Kubernetes server `${url}/sandbox/k8s`. */
  url: string;
  port: number;
  sandbox: Sandbox;
  server: Server;
  close(): Promise<void>;
}

/** A standalone HTTP server mounting the sandbox on `/sandbox/*` (used by tests and benchmarks). */
export async function startSandboxServer(options: SandboxOptions & { port?: number; host?: string; sandbox?: Sandbox } = {}): Promise<SandboxServer> {
  const { port = 0, host = '127.0.0.1', sandbox: provided, ...sandboxOptions } = options;
  const sandbox = provided ?? createSandbox(sandboxOptions);
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === '/sandbox' || url.startsWith('/sandbox/') || url.startsWith('/sandbox?')) {
      void sandbox.handle(req, res, url.slice('/sandbox'.length));
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'not found; the sandbox is under /sandbox' }));
    }
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const actualPort = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${actualPort}`,
    port: actualPort,
    sandbox,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
