/**
 * The sample events of `events/` (what `osls invoke local -f NAME -p events/...` feeds a function)
 * run through the real handler module serverless.yml names for their route, in this process,
 * against dynalite — as `invoke local` does with TABLE_NAME/DYNAMODB_ENDPOINT pointing at `npm
 * start`'s DynamoDB. Every HTTP route has an event, and each gets the answer it should.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../functions/routes.js';
import { lambdaContext } from '../../local/http-adapter.js';
import { startHarness, type Harness } from '../helpers/local.js';
import { SEED_EXAMPLES } from '../helpers/seeds.js';

const ROOT = resolve(import.meta.dirname, '../..');
const EVENTS = join(ROOT, 'events');
const sls = parse(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'), { logLevel: 'silent' }) as {
  functions: Record<string, { handler: string; events?: Array<{ httpApi?: { method: string; path: string }; schedule?: unknown }> }>;
};

/** serverless.yml's handler (`functions/x.handler`) for a route key, or for the scheduled function. */
function handlerFor(match: (events: NonNullable<(typeof sls.functions)[string]['events']>) => boolean): { file: string; exportName: string; fn: string } {
  const entry = Object.entries(sls.functions).find(([, f]) => match(f.events ?? []));
  if (!entry) throw new Error('no function in serverless.yml');
  const [fn, { handler }] = entry;
  const dot = handler.lastIndexOf('.');
  return { file: join(ROOT, `${handler.slice(0, dot)}.ts`), exportName: handler.slice(dot + 1), fn };
}

type Invoke = (event: unknown, context: unknown) => Promise<{ statusCode: number; body?: string; headers?: Record<string, string> }>;
async function load(file: string, exportName: string): Promise<Invoke> {
  const mod = (await import(pathToFileURL(file).href)) as Record<string, Invoke>;
  const handler = mod[exportName];
  if (typeof handler !== 'function') throw new Error(`${file} exports no ${exportName}`);
  return handler;
}

const read = (name: string) => JSON.parse(readFileSync(join(EVENTS, name), 'utf8')) as { routeKey?: string; body?: string };
const httpEvents = readdirSync(EVENTS)
  .filter((f) => f.endsWith('.json'))
  .map((name) => ({ name, event: read(name) }))
  .filter((e) => typeof e.event.routeKey === 'string');

/** What each sample answers against a store holding the seed EKS config (no state machine: provisioning stays PENDING). */
const EXPECTED: Record<string, number> = {
  'healthz.json': 200,
  'openapi.json': 200,
  'bindings-delete.json': 404, // no cluster is pinned in this store
  'bindings-list.json': 200,
  'clouds-list.json': 200,
  'config-put.json': 200,
  'config-get.json': 200,
  'config-versions.json': 200,
  'config-plan.json': 200, // IAM read from the harness's sandbox (AWS_ENDPOINT_URL), as a deployed plan reads IAM
  'resolve.json': 200,
  'provisioning-status.json': 200,
  'drift-check.json': 409, // the version's provisioning run has not finished
  'drift-latest.json': 404,
  'drift-background.json': 200,
  'drift-history.json': 200,
};

let h: Harness;
const saved = { ...process.env };

beforeAll(async () => {
  h = await startHarness({ driftIntervalSeconds: 0 });
  Object.assign(process.env, {
    TABLE_NAME: 'iam-mapping',
    DYNAMODB_ENDPOINT: h.server.dynamoEndpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    // The plan route reads IAM (and STS for the account): here the harness's sandbox, through the SDK's own endpoint variable.
    AWS_ENDPOINT_URL: `${h.server.url}/sandbox/aws`,
    DEFAULT_BUCKET: 'sample-bucket', // serverless.yml sets it from the deploy parameter
  });
  delete process.env.STATE_MACHINE_NAME;
  delete process.env.STATE_MACHINE_ARN;
  // Not the sample's own document: config-put.json must store a new version (an equal one would be `unchanged`).
  const put = await h.api('PUT', '/v1/clouds/cldrsrc_XXXX/iam-mapping', {
    body: SEED_EXAMPLES.eks.replace('fallback_rule: CLOUD_DEFAULT', 'fallback_rule: FAIL'),
  });
  expect(put.status).toBe(200);
});

afterAll(async () => {
  process.env = saved;
  await h?.stop();
});

describe('events/ through the deployed handlers', () => {
  it('every HTTP route of serverless.yml has a sample event', () => {
    const covered = new Set(httpEvents.map((e) => e.event.routeKey));
    expect(ROUTES.map((r) => `${r.method} ${r.path}`).filter((k) => !covered.has(k))).toEqual([]);
    expect(Object.keys(EXPECTED).sort()).toEqual(httpEvents.map((e) => e.name).sort());
  });

  it('each HTTP event gets its expected status and the contract body', async () => {
    const ordered = [...httpEvents].sort((a, b) => Number(b.name === 'config-put.json') - Number(a.name === 'config-put.json'));
    const got: Record<string, number> = {};
    for (const { name, event } of ordered) {
      const { file, exportName, fn } = handlerFor((events) => events.some((e) => e.httpApi && `${e.httpApi.method} ${e.httpApi.path}` === event.routeKey));
      const invoke = await load(file, exportName);
      const res = await invoke(event, lambdaContext(fn, `sample-${name}`));
      got[name] = res.statusCode;
      const body = res.body ? JSON.parse(res.body) : undefined;
      if (res.statusCode >= 400)
        expect(body, name).toMatchObject({ error: { code: expect.any(String), message: expect.any(String), details: expect.any(Array) } });
      if (name === 'config-plan.json')
        expect(body).toMatchObject({ cloud_deployment_id: 'cldrsrc_XXXX', changes: expect.any(Array), warnings: expect.any(Array) });
      if (name === 'resolve.json') expect(body).toMatchObject({ value: 'kubernetes-service-account-name2', rule_index: 1, trace: expect.any(Array) });
    }
    expect(got).toEqual(EXPECTED);
  });

  it('the scheduled drift event runs a pass over every cloud with a config', async () => {
    const { file, exportName, fn } = handlerFor((events) => events.some((e) => e.schedule !== undefined));
    const invoke = (await load(file, exportName)) as unknown as (
      e: unknown,
      c: unknown,
    ) => Promise<{ checked: unknown[]; errors: unknown[]; restarted: unknown[] }>;
    const outcome = await invoke(read('drift-schedule.json'), lambdaContext(fn, 'sample-schedule', 900_000));
    // The seed cloud's run has not started (no state machine here) and is recent: skipped, not checked.
    expect(outcome).toMatchObject({ checked: [], errors: [], skipped: [{ cloudId: 'cldrsrc_XXXX', reason: expect.stringMatching(/is PENDING$/) }] });
  });

  it('the drift worker event (what the drift function queues for a long on-demand check) runs that one check', async () => {
    const { file, exportName, fn } = handlerFor((events) => events.some((e) => e.schedule !== undefined));
    const invoke = (await load(file, exportName)) as unknown as (e: unknown, c: unknown) => Promise<Record<string, unknown>>;
    const outcome = await invoke(read('drift-worker.json'), lambdaContext(fn, 'sample-drift-worker', 900_000));
    // The same cloud, still unprovisioned: the check refuses (409 as the API would), logged, not retried.
    expect(outcome).toMatchObject({ cloudId: 'cldrsrc_XXXX', error: expect.stringMatching(/provisioning of config version \d+ is PENDING/) });
  });
});
