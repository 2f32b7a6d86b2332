/**
 * The whole system in one process (`npm start`, integration tests, benchmarks): the deployed
 * handlers behind a local stand-in for API Gateway (routing + JWT verification), dynalite as
 * DynamoDB persisted under DATA_DIR.
 */
import './defaults.js';
import './polyfills.js';
import { inInvocation, outsideInvocation } from './invocation-scope.js';
import { CONSOLE_DIST, ensureConsoleBuilt } from '../scripts/build-console.js';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFile } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createApp, type App, type StorePorts } from '../app/app.js';
import type { DriftCheckControl } from '../lib/drift/check.js';
import { runHandedOffCheck, runScheduledPass, type ScheduleOutcome } from '../app/use-cases/drift.js';
import { createTargets, type Targets, type TargetsConfig } from '../adapters/targets.js';
import { createGcpTargets, type GcpTargetsConfig } from '../adapters/gcp/google.js';
import { configOperations } from '../functions/config.js';
import { driftOperations } from '../functions/drift.js';
import { healthzOperations } from '../functions/healthz.js';
import { MAX_BODY_BYTES } from '../functions/http.js';
import { httpFunction, type HttpHandler } from '../functions/http/handler.js';
import { errorResponse } from '../functions/middleware/errors.js';
import { logger } from '../functions/observability.js';
import { openapiOperations } from '../functions/openapi.js';
import { provisioningStatusOperations } from '../functions/provisioning-status.js';
import { taskHandlers } from '../functions/provisioning.js';
import { resolveOperations } from '../functions/resolve.js';
import { matchRoute, type FunctionName } from '../functions/routes.js';
import type { DriftDeps } from '../lib/drift/check.js';
import { AppError } from '../lib/errors.js';
import type { SettingsDefaults } from '../lib/provisioning/settings.js';
import type { ResolutionService } from '../lib/resolution/service.js';
import { createWorkflowSteps } from '../lib/workflow/steps.js';
import { createCheckingVerifier, loadOrCreateSecret, unauthorized } from './auth.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION, createLocalDocumentClient, ensureTable, startDynalite } from './dynalite.js';
import { authorizationCount, BodyTooLargeError, createRequestQueue, lambdaContext, readBody, send, toEvent } from './http-adapter.js';
import { asFunction, currentFunction, functionHeaders } from './function-context.js';
import { createSandbox, GCP_DEFAULT_PROJECT, gcpControlPlaneAccount, type Sandbox, type SandboxOptions } from './sandbox/index.js';
import { persistedSandboxState } from './sandbox-state.js';
import { createLocalWorkflowRunner, type LocalWorkflowRunner, type Quotas } from './workflow-runner.js';
import { recordExecutionEnd, resumeUnfinishedRuns } from '../lib/workflow/run-ended.js';
import { identityCeiling } from '../lib/config/limits.js';
import { deploymentRulesFromEnv, driftDeadlineMs, planPageSizeFromEnv } from '../functions/lambda-app.js';
import { gcpDefaultsFromEnv } from '../functions/gcp-env.js';

export interface LocalServerOptions {
  port?: number;
  host?: string;
  /** Where dynalite data, the sandbox state and the dev-token secret live. */
  dataDir: string;
  tableName?: string;
  resolveFreshnessMs?: number;
  /** How long past the freshness window a resolve may answer from memory while it re-checks. Default env RESOLVE_STALE_GRACE_MS, else 2000. */
  resolveStaleGraceMs?: number;
  /** Port of the embedded DynamoDB (dynalite); 0 = any free port. */
  dynamoPort?: number;
  /** Use this DynamoDB endpoint (another dynalite, DynamoDB Local) instead of starting one; it is not stopped on close. */
  dynamoEndpoint?: string;
  /** Options of the built-in sandbox (latency, faults, clusters); ignored when `targets` is given. */
  sandbox?: SandboxOptions;
  /** Real provisioning targets (mode `aws`) instead of the sandbox. */
  targets?: TargetsConfig;
  /** Google Cloud targets; default: the sandbox's `/sandbox/gcp` (with real AWS targets: Google's APIs when GCP_API_BASE_URL or GCP_PROJECT is set, else none). */
  gcpTargets?: GcpTargetsConfig;
  /** Provisioning defaults: the cluster to trust and the default bucket. */
  defaults?: SettingsDefaults;
  /** Local workflow timing: retry interval and Wait states, in ms; plan page size (items per Distributed Map child, default env PLAN_PAGE_SIZE, else 100); quota overrides. */
  workflow?: { retryIntervalMs?: number; waitMs?: number; planPageSize?: number; quotas?: Partial<Quotas> };
  /** Seconds between scheduled drift passes (drift checks, restarts of lost provisioning); 0 = none. Default env DRIFT_INTERVAL_SECONDS, else 300. */
  driftIntervalSeconds?: number;
  /** An on-demand drift check still running after this many ms goes on in the background and the request answers 202, as deployed. Default env DRIFT_DEADLINE_SECONDS, else 20 s. */
  driftDeadlineMs?: number;
  /**
   * Sandbox only: each deployed function gets its own IAM/EKS/STS clients and their caches (the
   * account, described clusters), as each Lambda has its own container, so every call a function
   * makes deployed is made — and attributed to it — locally too (test/deploy/task-permissions).
   * Default off: one set for the process.
   */
  targetsPerFunction?: boolean;
}

export interface LocalServer {
  url: string;
  port: number;
  /** The embedded DynamoDB, for the AWS CLI or `osls invoke local`. */
  dynamoEndpoint: string;
  /** The app every handler runs on (the same composition as deployed, other adapters). */
  app: App;
  /** The app's stores and resolution service (for tests and benchmarks). */
  deps: StorePorts & { resolution: ResolutionService };
  /** The emulated IAM/EKS/Kubernetes (absent when real targets are configured). */
  sandbox: Sandbox | undefined;
  workflow: LocalWorkflowRunner;
  /** What the drift checks use (stores, workflow, targets). */
  drift: DriftDeps;
  /** One scheduled drift pass now (what the interval / the deployed EventBridge rule runs). */
  runDriftSchedule(): Promise<ScheduleOutcome>;
  close(): Promise<void>;
}

/** Defaults of `npm start`: the sandbox's EKS cluster and a made-up default bucket. */
export const SANDBOX_DEFAULTS: SettingsDefaults = {
  clusterName: 'sandbox',
  region: LOCAL_REGION,
  defaultBucket: 'anyscale-sandbox-bucket',
  // Google Cloud: the sandbox's project, a GKE cluster name (served by the same sandbox Kubernetes API) and the control plane's account.
  gcpProject: GCP_DEFAULT_PROJECT,
  gkeClusterName: 'sandbox-gke',
  gkeClusterLocation: 'us-central1',
  gcpControlPlaneServiceAccount: gcpControlPlaneAccount(GCP_DEFAULT_PROJECT),
};

/** The request target as a URL: a path (`//x` is a path, not a protocol-relative URL) or absolute-form; undefined when unparsable (`*`). */
function requestTarget(raw: string): URL | undefined {
  try {
    return raw.startsWith('/') ? new URL(`http://localhost${raw}`) : new URL(raw);
  } catch {
    return undefined;
  }
}

export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const host = options.host ?? '127.0.0.1';
  // CONTRACT: every role the service creates carries the deployment's boundary; against outside
  // AWS endpoints that policy is the operator's to name (the sandbox defines its own). Checked
  // before anything starts.
  if (options.targets && !(options.defaults?.permissionsBoundaryArn ?? deploymentRulesFromEnv(process.env).permissionsBoundaryArn)) {
    throw new Error(
      'IAM_MAPPING_TARGETS=aws needs PERMISSIONS_BOUNDARY_ARN: the managed policy every role the service creates carries as its permissions boundary ' +
        '(deployed, the stack defines it; see the README, "Outside endpoints")',
    );
  }
  mkdirSync(options.dataDir, { recursive: true });
  await ensureConsoleBuilt().catch((e: unknown) => console.error(`iam-mapping: the web console could not be built: ${String(e)}`));
  const dynamo = options.dynamoEndpoint
    ? { endpoint: options.dynamoEndpoint, close: async () => undefined }
    : await startDynalite({ dataDir: options.dataDir, port: options.dynamoPort ?? 0 });
  const tableName = options.tableName ?? 'iam-mapping';
  const admin = createLocalDocumentClient(dynamo.endpoint);
  try {
    await ensureTable(admin, tableName);
  } catch (e) {
    await dynamo.close();
    throw e;
  } finally {
    admin.destroy();
  }

  const sandboxState = persistedSandboxState(join(options.dataDir, 'sandbox.json'));
  // The sandbox models the deployment's permissions boundary (CreateRole without it is AccessDenied) unless told not to.
  const sandbox = options.targets ? undefined : createSandbox({ permissionsBoundary: true, ...options.sandbox, state: sandboxState.hooks });

  let handlers: Record<FunctionName, HttpHandler> | undefined;
  const verify = createCheckingVerifier(loadOrCreateSecret(options.dataDir));

  /** A request that failed outside the handlers' own error handling: a 500 body, or a cut connection once the head is out. */
  const fail = (res: ServerResponse, e: unknown) => {
    if (!res.headersSent) send(res, errorResponse(e));
    else res.destroy();
  };
  const queue = createRequestQueue(fail);
  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => fail(res, e));
  });
  server.keepAliveTimeout = 65_000;
  // Node answers a request whose headers exceed its limit (16 KiB) with a bare 431 and no body;
  // answer it (and other unparsable requests) with the contract's error body instead.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const status = tooLarge ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const body = JSON.stringify({
      error: tooLarge
        ? { code: 'HEADER_TOO_LARGE', message: 'the request headers are too large', details: [{ path: 'headers', message: 'headers too large' }] }
        : {
            code: 'INVALID_REQUEST',
            message: 'the request could not be parsed',
            details: [{ path: 'request', message: String(err.code ?? 'malformed request') }],
          },
    });
    const reason = tooLarge ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request';
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });

  // CONNECT (a tunnel request, authority-form target): without a listener Node closes the connection with no answer.
  // No resource here serves it: 405 in the error body (an empty Allow: no method tunnels), and the connection closes.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    const body = JSON.stringify({
      error: { code: 'METHOD_NOT_ALLOWED', message: 'CONNECT is not allowed: this server is not a proxy', details: [{ path: 'method', message: 'CONNECT' }] },
    });
    socket.on('error', () => socket.destroy());
    socket.end(
      `HTTP/1.1 405 Method Not Allowed\r\nAllow: \r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = req.url ?? '/';
    const url = requestTarget(raw);
    if (!url) {
      req.resume();
      send(
        res,
        errorResponse(new AppError('INVALID_REQUEST', 'the request target is not a valid path', [{ path: 'path', message: 'invalid request target' }])),
      );
      return;
    }
    // Decided on the normalised path, so `/sandbox/../v1/...` is the API and `/v1/../sandbox/...` the sandbox.
    if (sandbox && (url.pathname === '/sandbox' || url.pathname.startsWith('/sandbox/'))) {
      await sandbox.handle(req, res, url.pathname.slice('/sandbox'.length) + url.search);
      return;
    }
    const method = (req.method ?? 'GET').toUpperCase();
    if (url.pathname === '/' && (method === 'GET' || method === 'HEAD')) {
      req.resume();
      res.writeHead(302, { location: '/console/' }).end();
      return;
    }
    if (url.pathname === '/console' || url.pathname.startsWith('/console/')) {
      req.resume();
      serveConsole(method, url.pathname, res);
      return;
    }
    // HEAD is GET without a body (Node's ServerResponse writes no body for a HEAD request); the GET routes only read.
    const { match, allowed } = matchRoute(method === 'HEAD' ? 'GET' : method, url.pathname);
    if (!match) {
      req.resume();
      if (allowed.length) {
        const methods = allowed.includes('GET') ? [...allowed, 'HEAD'] : allowed;
        send(
          res,
          errorResponse(
            new AppError(
              'METHOD_NOT_ALLOWED',
              `${method} is not allowed on ${url.pathname}; use ${methods.join(', ')}`,
              [{ path: 'method', message: `one of ${methods.join(', ')}` }],
              {
                allow: methods.join(', '),
              },
            ),
          ),
        );
        return;
      }
      send(res, errorResponse(new AppError('NOT_FOUND', `no route ${method} ${url.pathname}`)));
      return;
    }
    let claims: Record<string, unknown> | undefined;
    if (match.route.permission) {
      const authorizations = authorizationCount(req);
      if (authorizations > 1) {
        req.resume();
        send(res, unauthorized(`${authorizations} Authorization headers: an ambiguous credential is refused; send exactly one`));
        return;
      }
      const verification = verify(req.headers.authorization);
      const { payload, reason } = verification instanceof Promise ? await verification : verification;
      if (!payload) {
        req.resume();
        // Logged as a line of this request, under the function the route names (the handler never runs).
        const requestId = randomUUID();
        inInvocation(requestId, () => {
          logger.addContext(lambdaContext(match.route.fn, requestId));
          logger.warn('token refused', { method, path: url.pathname, reason });
        });
        send(res, unauthorized(reason));
        return;
      }
      claims = payload;
    }
    let body: Buffer;
    try {
      body = await readBody(req, MAX_BODY_BYTES);
    } catch (e) {
      if (e instanceof BodyTooLargeError) {
        send(
          res,
          errorResponse(
            new AppError('PAYLOAD_TOO_LARGE', `request body exceeds ${MAX_BODY_BYTES} bytes`, [{ path: 'body', message: `at most ${MAX_BODY_BYTES} bytes` }]),
          ),
        );
        return;
      }
      throw e;
    }
    const event = toEvent(req, url, body, match.key, match.pathParameters, claims);
    const context = lambdaContext(match.route.fn, event.requestContext.requestId);
    if (!handlers) throw new AppError('SERVICE_UNAVAILABLE', 'starting up');
    const handler = handlers[match.route.fn];
    // Run with the other requests of this poll phase, back to back (createRequestQueue says why),
    // logging with its own request's context; the sandbox calls it makes are the deployed
    // function's (`caller` in the call log).
    queue(res, () => inInvocation(context.awsRequestId, () => handler(event, context), match.route.fn));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host}:${port}`;
  // The sandbox is served on this server's port, so the targets are built once it listens.
  const targetsConfig: TargetsConfig = options.targets ?? {
    mode: 'sandbox',
    region: LOCAL_REGION,
    sandboxUrl: url,
    clusterName: SANDBOX_DEFAULTS.clusterName!,
    // Each call names the deployed function it is made for (the sandbox's call log `caller`).
    requestHeaders: functionHeaders,
  };
  const gcpConfig: GcpTargetsConfig | undefined =
    options.gcpTargets ??
    (!options.targets
      ? { mode: 'sandbox', sandboxUrl: url }
      : process.env.GCP_API_BASE_URL || process.env.GCP_PROJECT
        ? { mode: 'google', ...(process.env.GCP_API_BASE_URL ? { baseUrl: process.env.GCP_API_BASE_URL } : {}) }
        : undefined);
  // The deployment's limits (ALLOWED_POLICY_ARNS, PROTECTED_NAMESPACES, ROLE_PATH, PERMISSIONS_BOUNDARY_ARN) as deployed, from
  // the environment; under the sandbox the boundary is the sandbox's.
  const defaults: SettingsDefaults = {
    ...deploymentRulesFromEnv(process.env),
    ...gcpDefaultsFromEnv(process.env),
    ...(sandbox?.permissionsBoundaryArn ? { permissionsBoundaryArn: sandbox.permissionsBoundaryArn } : {}),
    ...(options.defaults ?? (options.targets ? {} : SANDBOX_DEFAULTS)),
  };
  // The same ASL file as deployed, run in this process over the same step handlers and the app's ports.
  const runner = createLocalWorkflowRunner({
    handlers: taskHandlers(() => createWorkflowSteps(app.workflowDeps)),
    ...options.workflow,
    onError: (id, error) => logger.warn('workflow execution ended with an error', { executionId: id, error: String(error) }),
    // What EventBridge's execution status change does deployed: a run its execution left unfinished is marked FAILED.
    onEnded: async (ended) => {
      const input = ended.input as { cloudId: string; version: number };
      await recordExecutionEnd(app.stores.runs, { ...ended, cloudId: input.cloudId, version: input.version });
    },
  });
  /** The handed-off drift checks running in this process, each with what withdraws it. */
  const backgroundChecks = new Map<DriftCheckControl, Promise<void>>();
  const app: App = createApp({
    store: { tableName, region: LOCAL_REGION, dynamodbEndpoint: dynamo.endpoint, credentials: LOCAL_CREDENTIALS },
    resolve: {
      freshnessMs: options.resolveFreshnessMs ?? Number(process.env.RESOLVE_FRESHNESS_MS ?? 1000),
      staleGraceMs: options.resolveStaleGraceMs ?? Number(process.env.RESOLVE_STALE_GRACE_MS ?? 2000),
    },
    defaults,
    targets: () => (!options.targets && options.targetsPerFunction ? perFunctionTargets(() => createTargets(targetsConfig)) : createTargets(targetsConfig)),
    ...(gcpConfig ? { gcp: () => createGcpTargets(gcpConfig) } : {}),
    // A run outlives the request that starts it: it logs outside that request's context (deployed, in its own task functions).
    workflow: () => ({ start: (input) => outsideInvocation(() => runner.start(input)) }),
    maxIdentities: identityCeiling(process.env.MAX_IDENTITIES),
    driftDeadlineMs: options.driftDeadlineMs ?? driftDeadlineMs(process.env.DRIFT_DEADLINE_SECONDS),
    // The drift worker of this process (deployed: the drift schedule function, invoked asynchronously).
    driftHandOff: (a) => ({
      handOff: async (request) => {
        // Stopping (Ctrl-C) withdraws it (close): it reads no further and writes nothing; the slot is freed.
        const control = { withdrawn: false, writing: false };
        // It outlives the request that handed it off (deployed: the drift worker's own invocation, the
        // driftSchedule function, role DriftRole), so it logs outside that request's context.
        const check = outsideInvocation(() => asFunction('driftSchedule', () => runHandedOffCheck(a, request, { control })))
          .then(
            (report) => logger.info('handed-off drift check', { cloudId: request.cloudId, status: report.status, findings: report.summary.total }),
            (error: unknown) => logger.warn('handed-off drift check failed', { cloudId: request.cloudId, error: String(error) }),
          )
          .finally(() => backgroundChecks.delete(control));
        backgroundChecks.set(control, check);
      },
    }),
    ...(options.workflow?.planPageSize ? { planPageSize: options.workflow.planPageSize } : planPageSizeFromEnv()),
  });
  // Runs cut off by a crash (SIGKILL) or a stop of the previous process are resumed (started
  // before the server reports ready, so no request races a resume of the same version).
  await resumeUnfinishedRuns({ configs: app.stores.configs, runs: app.stores.runs, workflow: runner }).then(
    (resumed) => resumed.length > 0 && logger.info('resumed unfinished provisioning runs', { resumed }),
    (error: unknown) => logger.warn('could not resume unfinished provisioning runs', { error: String(error) }),
  );
  const getApp = () => app;
  handlers = {
    healthz: httpFunction('healthz', healthzOperations, getApp),
    openapi: httpFunction('openapi', openapiOperations, getApp),
    config: httpFunction('config', configOperations, getApp),
    resolve: httpFunction('resolve', resolveOperations, getApp),
    provisioningStatus: httpFunction('provisioningStatus', provisioningStatusOperations, getApp),
    drift: httpFunction('drift', driftOperations, getApp),
  };

  // The scheduled drift pass (deployed: an EventBridge rule); one at a time, quiet unless it fails.
  let driftPass: Promise<ScheduleOutcome> | undefined;
  const runDriftSchedule = () =>
    (driftPass ??= asFunction('driftSchedule', () => runScheduledPass(app)).finally(() => {
      driftPass = undefined;
    }));
  const intervalSeconds = options.driftIntervalSeconds ?? Number(process.env.DRIFT_INTERVAL_SECONDS ?? 300);
  const driftTimer =
    Number.isFinite(intervalSeconds) && intervalSeconds > 0
      ? setInterval(() => {
          runDriftSchedule().then(
            (outcome) => {
              for (const e of outcome.errors) logger.warn('scheduled drift check failed', e);
              for (const c of outcome.checked) if (c.report.drifted) logger.info('drift found', { cloudId: c.cloudId, summary: c.report.summary });
            },
            (error: unknown) => logger.warn('scheduled drift pass failed', { error: String(error) }),
          );
        }, intervalSeconds * 1000)
      : undefined;
  driftTimer?.unref();

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      if (driftTimer) clearInterval(driftTimer);
      for (const control of backgroundChecks.keys()) control.withdrawn = true;
      await driftPass?.catch(() => undefined);
      await Promise.all(backgroundChecks.values());
      await runner.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      });
      sandboxState.flush(sandbox);
      await dynamo.close();
    })());

  return {
    url,
    port,
    dynamoEndpoint: dynamo.endpoint,
    app,
    get deps() {
      return { ...app.stores, resolution: app.resolution };
    },
    sandbox,
    workflow: runner,
    get drift() {
      return app.driftDeps;
    },
    runDriftSchedule,
    close,
  };
}

/** Targets whose every call goes to the current function's own set (local/function-context.ts), made on first use. */
function perFunctionTargets(make: () => Targets): Targets {
  const byFunction = new Map<string, Targets>();
  const current = (): Targets => {
    const name = currentFunction() ?? '';
    let targets = byFunction.get(name);
    if (!targets) byFunction.set(name, (targets = make()));
    return targets;
  };
  const port = <K extends 'iam' | 'clusters' | 'podIdentity'>(key: K): NonNullable<Targets[K]> =>
    new Proxy({} as NonNullable<Targets[K]>, {
      get: (_o, prop) => {
        const target = current()[key] as unknown as Record<string | symbol, unknown>;
        const value = target[prop];
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  return { iam: port('iam'), clusters: port('clusters'), podIdentity: port('podIdentity'), kubernetes: (cluster) => current().kubernetes(cluster) };
}

// ---------------------------------------------------------------------------------------------
// The web console (console/): static files under /console/, as S3/CloudFront serve them deployed.
// ---------------------------------------------------------------------------------------------
// Built from console/ by scripts/build-console.ts (at start, when older than its sources).
const CONSOLE_DIR = CONSOLE_DIST;
const CONSOLE_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
};
const CONSOLE_HEADERS = {
  'cache-control': 'no-cache',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; worker-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

function serveConsole(method: string, pathname: string, res: ServerResponse): void {
  const fail = (status: number, message: string) => {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...CONSOLE_HEADERS }).end(`${message}\n`);
  };
  if (method !== 'GET' && method !== 'HEAD') {
    res.writeHead(405, { 'content-type': 'text/plain; charset=utf-8', allow: 'GET, HEAD', ...CONSOLE_HEADERS }).end('method not allowed\n');
    return;
  }
  if (pathname === '/console') {
    res.writeHead(308, { location: '/console/' }).end();
    return;
  }
  let rel: string;
  try {
    rel = decodeURIComponent(pathname.slice('/console/'.length)) || 'index.html';
  } catch {
    return fail(400, 'bad path');
  }
  const file = normalize(join(CONSOLE_DIR, rel));
  const type = CONSOLE_TYPES[extname(file)];
  if (!file.startsWith(CONSOLE_DIR + sep) || rel.includes('\0') || !type) return fail(404, 'not found');
  readFile(file, (error, data) => {
    if (error) return fail(404, 'not found');
    res.writeHead(200, { 'content-type': type, 'content-length': data.length, ...CONSOLE_HEADERS });
    res.end(method === 'HEAD' ? undefined : data);
  });
}
