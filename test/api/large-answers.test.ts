/**
 * Answers over what a Lambda may return (6 MB), through the local server running the deployed
 * handlers: the plan of a 5,000-identity draft (MAX_IDENTITIES at IAM's ceiling) is ~8 MB of JSON.
 * Asked for with `Accept-Encoding: gzip` (fetch, the CLI, curl --compressed) it leaves compressed
 * and decodes to the full plan; asked for without gzip it is a 406 in the contract's error body
 * naming its size and what to send, never a 500. Small answers are not touched.
 */
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAMBDA_RESPONSE_LIMIT } from '../../functions/http/response-size.js';
import { ROUTES } from '../../functions/routes.js';
import { onPath } from '../helpers/cli-env.js';
import { startHarness, type Harness } from '../helpers/local.js';

const CLOUD = 'cldrsrc_large';
const N = 5000;
const PLAN = `/v1/clouds/${CLOUD}/iam-mapping/plan`;
const draft = JSON.stringify({
  cloud_deployment_id: CLOUD,
  cloud_provider: 'AWS',
  compute_stack: 'K8S',
  dataplane_iam_mapping: {
    rules: Array.from({ length: N }, (_, k) => ({ selector: `workload-type in (job),user=user-${k}@example.com`, value: `sa-${k}` })),
    fallback_rule: 'FAIL',
  },
  provisioning: { namespaces: ['team-a', 'team-b'] },
});

let h: Harness;
let token: string;
let previous: string | undefined;
beforeAll(async () => {
  previous = process.env.MAX_IDENTITIES;
  process.env.MAX_IDENTITIES = String(N);
  h = await startHarness({ driftIntervalSeconds: 0 });
  token = await h.token('owner');
});
afterAll(async () => {
  await h?.stop();
  if (previous === undefined) delete process.env.MAX_IDENTITIES;
  else process.env.MAX_IDENTITIES = previous;
});

/** The raw answer (no client-side decoding), as bytes on the wire. */
function post(path: string, body: string, acceptEncoding?: string): Promise<{ status: number; headers: Record<string, unknown>; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    if (acceptEncoding !== undefined) headers['accept-encoding'] = acceptEncoding;
    const req = request(`${h.server.url}${path}`, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, bytes: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('an answer over 6 MB', () => {
  it('with Accept-Encoding: gzip: 200, gzip on the wire, the whole plan once decoded', async () => {
    const res = await post(PLAN, draft, 'gzip, deflate');
    expect(res.status, res.bytes.toString().slice(0, 300)).toBe(200);
    expect(res.headers).toMatchObject({ 'content-encoding': 'gzip', vary: 'accept-encoding' });
    expect(Number(res.headers['content-length'])).toBe(res.bytes.length);
    const text = gunzipSync(res.bytes).toString('utf8');
    expect(Buffer.byteLength(text)).toBeGreaterThan(LAMBDA_RESPONSE_LIMIT);
    expect(res.bytes.length).toBeLessThan(LAMBDA_RESPONSE_LIMIT / 10);
    const plan = JSON.parse(text);
    const roles = plan.changes.filter((c: { action: string; kind: string }) => c.action === 'create' && c.kind === 'iam-role');
    expect(roles).toHaveLength(N);
  });

  it('fetch (as the CLI and the console use it) asks for gzip and reads the plan', async () => {
    const res = await h.api('POST', PLAN, { body: draft, contentType: 'application/json' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(res.json.changes.length).toBeGreaterThan(N);
  });

  it('without Accept-Encoding (curl’s default): 406 NOT_ACCEPTABLE in the contract’s body, naming the size and the remedy; the route table declares it', async () => {
    const res = await post(PLAN, draft);
    expect(res.status).toBe(406);
    expect(res.headers['content-encoding']).toBeUndefined();
    const body = JSON.parse(res.bytes.toString('utf8'));
    expect(body.error).toMatchObject({ code: 'NOT_ACCEPTABLE', details: [expect.objectContaining({ path: 'headers.accept-encoding' })] });
    expect(body.error.message).toMatch(
      /^the answer is \d+(\.\d)? MB, more than the 6 MB a function can return uncompressed; ask for it gzip-compressed \(Accept-Encoding: gzip; curl --compressed\)/,
    );
    expect(ROUTES.find((r) => r.useCase === 'planConfig')?.responses).toHaveProperty('406');
  });

  it.skipIf(!onPath('curl'))('curl --compressed gets the plan; curl without it gets the 406', async () => {
    const curl = (...args: string[]) =>
      promisify(execFile)(
        'curl',
        [
          '-s',
          '-w',
          '\n%{http_code}',
          '-X',
          'POST',
          `${h.server.url}${PLAN}`,
          '-H',
          `Authorization: Bearer ${token}`,
          '-H',
          'Content-Type: application/json',
          '--data-binary',
          '@-',
          ...args,
        ],
        { maxBuffer: 64 * 2 ** 20, timeout: 60_000 },
      );
    const run = async (...args: string[]) => {
      const child = curl(...args);
      child.child.stdin!.end(draft);
      const { stdout } = await child;
      const at = stdout.lastIndexOf('\n');
      return { status: Number(stdout.slice(at + 1)), body: stdout.slice(0, at) };
    };
    const compressed = await run('--compressed');
    expect(compressed.status).toBe(200);
    expect(JSON.parse(compressed.body).changes.length).toBeGreaterThan(N);
    const plain = await run();
    expect(plain.status).toBe(406);
    expect(JSON.parse(plain.body).error.code).toBe('NOT_ACCEPTABLE');
  });
});

describe('small answers', () => {
  it('are not compressed, whatever the request accepts', async () => {
    const res = await h.api('GET', '/v1/healthz', { role: null, headers: { 'accept-encoding': 'gzip' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-encoding')).toBeNull();
    expect(res.headers.get('vary')).toBeNull();
  });
});
