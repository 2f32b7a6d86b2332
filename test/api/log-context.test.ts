/**
 * Every log line of the local server names its own request's function and request id, or none
 * when it is written outside any request (local/invocation-scope.ts): requests of different
 * functions interleave in one process, and Powertools' logger once kept the context of whichever
 * request had set it last.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { logger } from '../../functions/observability.js';
import { startHarness, type Harness } from '../helpers/local.js';
import { SEED_EXAMPLES } from '../helpers/seeds.js';

// Every invocation sets the logger back to its initial level (test/setup.ts: ERROR): these tests read INFO lines.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
});

let h: Harness;
const base = '/v1/clouds/cldrsrc_XXXX';
type Line = { message: string; function_name?: string; function_request_id?: string; [k: string]: unknown };
let lines: Line[] = [];

beforeAll(async () => {
  h = await startHarness({ driftIntervalSeconds: 0 });
  expect((await h.api('PUT', `${base}/iam-mapping`, { body: SEED_EXAMPLES.eks })).status).toBe(200);
  await h.server.workflow.idle();
});
afterAll(async () => {
  await h?.stop();
});

/** The JSON log lines written while `fn` runs. */
async function logged(fn: () => Promise<void>): Promise<Line[]> {
  lines = [];
  // INFO lines go to stdout, WARN and ERROR to stderr (Powertools' console).
  const spies = [process.stdout, process.stderr].map((stream) => {
    const write = stream.write.bind(stream);
    return vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      let captured = 0;
      for (const line of text.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          lines.push(JSON.parse(line) as Line);
          captured++;
        } catch {
          // not a log line
        }
      }
      // Captured log lines stay off the test output; anything else (the reporter) goes through.
      return captured > 0 ? true : write(chunk, ...(rest as []));
    });
  });
  try {
    await fn();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return lines;
}

afterEach(() => {
  lines = [];
});

describe('log lines carry their own request', () => {
  it('a refused token after a drift request names the route’s function and a request id of its own, each time', async () => {
    const out = await logged(async () => {
      expect((await h.api('GET', `${base}/drift-checks/latest`, { role: 'viewer' })).status).toBeLessThan(500);
      for (let i = 0; i < 2; i++) expect((await h.api('GET', '/v1/clouds', { token: 'not.a.token' })).status).toBe(401);
    });
    const refused = out.filter((l) => l.message === 'token refused');
    expect(refused).toHaveLength(2);
    for (const line of refused) expect(line.function_name).toBe('config');
    expect(new Set(refused.map((l) => l.function_request_id)).size).toBe(2);
    for (const line of refused) expect(line.function_request_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('concurrent requests of different functions: each handler line names its function and its own request', async () => {
    await h.api('POST', `${base}/iam-mapping/resolve`, {
      role: 'control-plane',
      body: { workload_type: 'job', project: 'p', user: 'u@example.com', cluster_id: 'c1' },
    });
    const out = await logged(async () => {
      const forgets = Array.from({ length: 5 }, (_, i) =>
        h.api('POST', `${base}/iam-mapping/resolve`, {
          role: 'control-plane',
          body: { workload_type: 'job', project: 'p', user: 'u@example.com', cluster_id: `k${i}` },
        }),
      );
      const others = [
        h.api('DELETE', `${base}/iam-mapping/bindings/c1`),
        h.api('POST', `${base}/drift-checks`),
        h.api('GET', `${base}/iam-mapping/provisioning`, { role: 'viewer' }),
      ];
      for (const res of await Promise.all([...forgets, ...others])) expect(res.status).toBeLessThan(500);
    });
    const audit = out.filter((l) => l.message === 'pinned cluster forgotten');
    expect(audit).toHaveLength(1);
    expect(audit[0]!.function_name).toBe('config');
    // Lines under one request id name one function: no line names another request's function.
    const fnOf = new Map<string, string>();
    for (const line of out) {
      if (line.function_request_id === undefined) continue;
      const seen = fnOf.get(line.function_request_id);
      if (seen !== undefined) expect(line.function_name, JSON.stringify(line)).toBe(seen);
      fnOf.set(line.function_request_id, line.function_name!);
    }
  });

  it('lines written outside any request — a provisioning run started by a PUT, a line of the process — carry no request', async () => {
    const out = await logged(async () => {
      // Requests of other functions first, so a stale context would be the resolve function's.
      await h.api('POST', `${base}/iam-mapping/resolve`, { role: 'control-plane', body: { workload_type: 'job', project: 'p', user: 'u@example.com' } });
      const put = await h.api('PUT', `${base}/iam-mapping`, { body: SEED_EXAMPLES.eks.replace('kubernetes-service-account-name2', 'sa-logged') });
      expect(put.status).toBe(200);
      await h.api('POST', `${base}/iam-mapping/resolve`, { role: 'control-plane', body: { workload_type: 'job', project: 'p', user: 'u@example.com' } });
      await h.server.workflow.idle();
      logger.info('outside any request');
    });
    const outside = out.find((l) => l.message === 'outside any request');
    expect(outside).toBeDefined();
    expect(outside!.function_name).toBeUndefined();
    expect(outside!.function_request_id).toBeUndefined();
    for (const line of out) if (line.function_name === 'resolve') expect(line.message, JSON.stringify(line)).not.toMatch(/workflow|provision/i);
  });
});
