/**
 * Diagnosis (not part of the default run): CPU per call of the resolve Lambda handler invoked
 * directly (no HTTP, no store: the compiled 10,000-rule config is already cached), against the
 * healthz handler and against variants of the same pipeline built here, to show where the
 * per-request cost of functions/resolve.ts goes:
 * - middy's early-timeout (a setTimeout + Promise.race per call; `timeoutEarlyInMillis: 0` disables it),
 * - @middy/http-json-body-parser's JSON.parse with a reviver (proto-pollution guard),
 * - middy itself (per-call AbortController, async middleware chain).
 * Every variant runs the same authorization, body parse, zod validation, resolution and JSON
 * response. Event and context are built per call in every variant (as the HTTP adapter does).
 */
import '../local/defaults.js'; // as under npm start: no EMF metrics printed per call
import middy from '@middy/core';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import { cloudOf } from '../functions/cloud.js';
import type { App } from '../app/app.js';
import { healthzOperations } from '../functions/healthz.js';
import { httpFunction } from '../functions/http/handler.js';
import { json, type HttpContext, type HttpEvent } from '../functions/http.js';
import { authorize } from '../functions/middleware/auth.js';
import { errorResponse, errorResponses } from '../functions/middleware/errors.js';
import { resolveOperations } from '../functions/resolve.js';
import { can, principalFromClaims } from '../lib/auth.js';
import { resolveRequestSchema } from '../lib/config/schema.js';
import { AppError } from '../lib/errors.js';
import type { ConfigStore, StickyStore, VersionMeta } from '../lib/ports.js';
import { compileConfig } from '../lib/resolution/compile.js';
import { ResolutionService } from '../lib/resolution/service.js';
import { lambdaContext } from '../local/http-adapter.js';
import { emit, round } from './common.js';
import { CLOUD_ID, generateConfig, sampleLaunches } from './rules.js';

const N = 30_000;
const gen = generateConfig(10_000);
const compiled = compileConfig(gen.config, { version: 1, etag: 'bench' });
// A store that always reports version 1 (never re-fetched: the compiled config is current).
const meta = { version: 1 } as VersionMeta;
const store = { getLatestMeta: async () => meta } as unknown as ConfigStore & StickyStore;
const resolution = new ResolutionService(store, store, { freshnessMs: 3_600_000 });
await resolution.compiled(CLOUD_ID).catch(() => undefined);
(resolution as unknown as { cache: Map<string, unknown> }).cache.set(CLOUD_ID, { compiled, checkedAt: Date.now() });
const app = { resolution } as unknown as App;

const bodies = sampleLaunches(gen, 64, 99).map((s) => JSON.stringify(s.launch));
let k = 0;
const event = (): HttpEvent =>
  ({
    version: '2.0',
    routeKey: 'POST /v1/clouds/{cloud}/iam-mapping/resolve',
    rawPath: `/v1/clouds/${CLOUD_ID}/iam-mapping/resolve`,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', authorization: 'Bearer x' },
    pathParameters: { cloud: CLOUD_ID },
    body: bodies[k++ & 63],
    isBase64Encoded: false,
    requestContext: {
      requestId: 'r',
      http: { method: 'POST' },
      authorizer: { jwt: { claims: { role: 'control-plane', email: 'cp@example.com', sub: 'cp', clouds: '*' } } },
    },
  }) as unknown as HttpEvent;
const context = () => lambdaContext('resolve', 'r') as HttpContext;

// The handler body of functions/resolve.ts (without ?explain).
const core = async (e: HttpEvent) => {
  const parsed = resolveRequestSchema.safeParse((e as { body: unknown }).body);
  if (!parsed.success) throw new AppError('INVALID_REQUEST', 'invalid resolve request');
  return json(200, await app.resolution.resolve(cloudOf(e), parsed.data));
};
const plainJson = { before: (request: { event: { body?: unknown } }) => void (request.event.body = JSON.parse(request.event.body as string)) };
type Handler = (e: HttpEvent, c: HttpContext) => Promise<unknown>;
const variants: Record<string, Handler> = {
  healthz: httpFunction('healthz', healthzOperations, () => app),
  resolve_as_shipped: httpFunction('resolve', resolveOperations, () => app),
  middy_timeoutEarly_0: middy(core, { timeoutEarlyInMillis: 0 })
    .use(errorResponses())
    .use(authorize('resolve'))
    .use(httpJsonBodyParser({ disableContentTypeError: false })),
  middy_plain_JSON_parse: middy(core).use(errorResponses()).use(authorize('resolve')).use(plainJson),
  middy_both: middy(core, { timeoutEarlyInMillis: 0 }).use(errorResponses()).use(authorize('resolve')).use(plainJson),
  no_middy: async (e, c) => {
    try {
      const principal = principalFromClaims(e.requestContext.authorizer?.jwt?.claims, 'role');
      if (!principal) throw new AppError('UNAUTHORIZED', 'a bearer token is required');
      if (!can(principal, 'resolve')) throw new AppError('FORBIDDEN', 'may not resolve identities');
      c.principal = principal;
      if (!/^application\/json\b/i.test(e.headers['content-type'] ?? '')) throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json');
      (e as { body: unknown }).body = JSON.parse(e.body ?? '');
      return await core(e);
    } catch (err) {
      return errorResponse(err);
    }
  },
};

const check = (await variants.resolve_as_shipped!(event(), context())) as { statusCode: number; body: string };
if (check.statusCode !== 200) throw new Error(`resolve handler: ${check.statusCode} ${check.body}`);

const perCall: Record<string, number> = {};
for (let r = 0; r < 3; r++) {
  // Three interleaved rounds (the first is warm-up); the figure is the faster of the last two.
  for (const [name, h] of Object.entries(variants)) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) await h(event(), context());
    const us = Number(process.hrtime.bigint() - t0) / N / 1000;
    if (r > 0) perCall[name] = round(Math.min(perCall[name] ?? Infinity, us), 2);
  }
}
for (const [name, us] of Object.entries(perCall)) console.log(`${name.padEnd(24)} ${us.toFixed(2)} µs/call`);
emit({ bench: 'handler-overhead', calls: N, us_per_call: perCall });
