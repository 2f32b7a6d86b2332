/**
 * The OpenAPI document is generated from the route table and its zod schemas, served at GET
 * /v1/openapi.json, lists exactly the routes the server serves, and describes what the server
 * really answers: each response below is checked against the served document (JSON Schema) and
 * parsed with the zod schema it was generated from.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { COMPONENTS, buildOpenApiDocument, documentedKeys, responseSchema } from '../../functions/http/openapi.js';
import { ROUTES, routeKey } from '../../functions/routes.js';
import { startHarness, type ApiResponse, type Harness } from '../helpers/local.js';
import { SEED_EXAMPLES } from '../helpers/seeds.js';
import { SchemaChecker } from './json-schema.js';

const CLOUD = 'cldrsrc_XXXX';
const BASE = `/v1/clouds/${CLOUD}/iam-mapping`;
const operationKey = (method: string, path: string) => routeKey({ method: method.toUpperCase(), path });
const DRIFT_KEYS = [
  'POST /v1/clouds/{cloud}/drift-checks',
  'GET /v1/clouds/{cloud}/drift-checks/latest',
  'GET /v1/clouds/{cloud}/drift-checks',
  'GET /v1/clouds/{cloud}/drift-checks/background',
];
const hasDrift = DRIFT_KEYS.some((k) => ROUTES.some((r) => routeKey(r) === k));

type Doc = { openapi: string; paths: Record<string, Record<string, any>>; components: { schemas: Record<string, unknown> } };

describe('the generated document', () => {
  const doc = buildOpenApiDocument() as unknown as Doc;
  const checker = new SchemaChecker(doc);

  it('is OpenAPI 3.1 with every served route, with bearer security exactly where the route needs auth', () => {
    expect(doc.openapi).toBe('3.1.0');
    for (const route of ROUTES) {
      const op = doc.paths[route.path]?.[route.method.toLowerCase()];
      expect(op, `${route.method} ${route.path}`).toBeDefined();
      expect(op.operationId).toBe(route.useCase);
      expect(op.security).toEqual(route.permission ? [{ bearer: [] }] : []);
      for (const status of Object.keys(route.responses)) expect(op.responses[status], `${routeKey(route)} ${status}`).toBeDefined();
    }
    expect(documentedKeys(doc).sort()).toEqual(ROUTES.map(routeKey).sort());
    expect(new Set(ROUTES.map((r) => r.useCase)).size).toBe(ROUTES.length);
  });

  it('documents every status the edge can produce on a route: 400 for a bad cloud id, 413 for a body over the limit, 401/403 where auth is needed, the edge default', () => {
    for (const route of ROUTES) {
      const op = doc.paths[route.path]![route.method.toLowerCase()];
      const key = routeKey(route);
      const request = (route as { request?: { body?: unknown } }).request;
      if (route.path.startsWith('/v1/clouds/{cloud}')) expect(op.responses['400'], `${key} 400 (bad cloud id)`).toBeDefined();
      if (request?.body !== undefined) expect(op.responses['413'], `${key} 413 (body too large)`).toBeDefined();
      if (route.permission) for (const status of ['401', '403']) expect(op.responses[status], `${key} ${status}`).toBeDefined();
      expect(op.responses.default).toEqual({ $ref: '#/components/responses/EdgeError' });
    }
    expect(checker.resolve('#/components/responses/EdgeError')).toMatchObject({ description: expect.stringContaining('431') });
  });

  it('has every component generated from a zod schema, and every $ref resolves to one', () => {
    expect(Object.keys(doc.components.schemas).sort()).toEqual(Object.keys(COMPONENTS).sort());
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(10);
    for (const r of refs) expect(() => checker.resolve(JSON.parse(`{${r}}`).$ref)).not.toThrow();
  });

  it('has request schemas that accept the seed examples and reject what the server rejects', () => {
    const config = checker.resolve('#/components/schemas/MappingConfig');
    for (const [name, yaml] of Object.entries(SEED_EXAMPLES)) expect(checker.check(parseYaml(yaml), config), name).toEqual([]);
    const bad = { ...parseYaml(SEED_EXAMPLES.eks), extra: 1 };
    expect(checker.check(bad, config)).toEqual([expect.stringContaining('$.extra')]);
    const req = checker.resolve('#/components/schemas/ResolveRequest');
    expect(checker.check({ workload_type: 'job', project: 'p', user: 'u' }, req)).toEqual([]);
    expect(checker.check({ workload_type: 'batch', project: 'p', user: 'u' }, req)).not.toEqual([]);
  });
});

describe('real responses match the served document', () => {
  let h: Harness;
  let doc: Doc;
  let checker: SchemaChecker;
  const checked = new Set<string>();

  beforeAll(async () => {
    h = await startHarness();
    const res = await h.api('GET', '/v1/openapi.json', { role: null });
    expect(res.status).toBe(200);
    doc = res.json;
    checker = new SchemaChecker(doc);
  });
  afterAll(async () => {
    await h?.stop();
  });

  /** Checks one real response against the document's operation (status, media type, schema, ETag). */
  function conforms(method: string, path: string, res: ApiResponse): void {
    const op = doc.paths[path]?.[method.toLowerCase()];
    expect(op, `${method} ${path} is documented`).toBeDefined();
    const documented = op.responses[String(res.status)];
    expect(documented, `${method} ${path} → ${res.status} is documented (body ${res.text.slice(0, 300)})`).toBeDefined();
    if (!documented.content) {
      expect(res.text, `${method} ${path} → ${res.status} has no body`).toBe('');
      checked.add(`${operationKey(method, path)} ${res.status}`);
      return;
    }
    const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    const media = documented.content?.[type];
    expect(media, `${method} ${path} → ${res.status} documents ${type}`).toBeDefined();
    const body = type === 'application/yaml' ? parseYaml(res.text) : res.json;
    expect(checker.check(body, media.schema), `${method} ${path} → ${res.status}`).toEqual([]);
    const zod = responseSchema(method, path, res.status)!;
    const parsed = z.safeParse(zod, body);
    expect(parsed.success, `${method} ${path} → ${res.status}: ${parsed.error?.message}`).toBe(true);
    if (documented.headers?.ETag) expect(res.headers.get('etag')).toMatch(/^"[^"]+"$/);
    checked.add(`${operationKey(method, path)} ${res.status}`);
  }

  it('service routes', async () => {
    conforms('GET', '/v1/healthz', await h.api('GET', '/v1/healthz', { role: null }));
    conforms('GET', '/v1/openapi.json', await h.api('GET', '/v1/openapi.json', { role: null }));
  });

  it('config: 404, 200 JSON and YAML, 400 with line/rule/position, 412, 401, 403, versions', async () => {
    const P = '/v1/clouds/{cloud}/iam-mapping';
    conforms('GET', P, await h.api('GET', BASE, { role: 'viewer' }));
    conforms('GET', `${P}/versions`, await h.api('GET', `${BASE}/versions`, { role: 'viewer' }));

    const put = await h.api('PUT', BASE, { body: SEED_EXAMPLES.eks });
    conforms('PUT', P, put);
    const flat = SEED_EXAMPLES.eks.replace(/^ +/gm, '');
    const put2 = await h.api('PUT', BASE, { body: flat, headers: { 'if-match': put.json.etag } });
    expect(put2.json.warnings[0].code).toBe('UNINDENTED_YAML');
    conforms('PUT', P, put2);

    const yamlError = await h.api('PUT', BASE, { body: 'cloud_deployment_id: [\n' });
    expect(yamlError.json.error.details[0]).toMatchObject({ line: expect.any(Number), column: expect.any(Number) });
    conforms('PUT', P, yamlError);
    const selectorError = await h.api('PUT', BASE, { body: SEED_EXAMPLES.eks.replace('user=user2@example.com', 'user in (a,') });
    expect(selectorError.json.error.details[0]).toMatchObject({ rule_index: 1, position: expect.any(Number), line: 8 });
    conforms('PUT', P, selectorError);

    conforms('PUT', P, await h.api('PUT', BASE, { body: SEED_EXAMPLES.eks, headers: { 'if-match': put.json.etag } }));
    conforms('PUT', P, await h.api('PUT', BASE, { body: SEED_EXAMPLES.eks, role: null }));
    conforms('PUT', P, await h.api('PUT', BASE, { body: SEED_EXAMPLES.eks, role: 'viewer' }));
    conforms('PUT', P, await h.api('PUT', BASE, { body: '<x/>', contentType: 'application/xml' }));

    conforms('GET', P, await h.api('GET', BASE, { role: 'viewer' }));
    conforms('GET', P, await h.api('GET', `${BASE}?version=1`, { role: 'viewer', headers: { accept: 'application/yaml' } }));
    conforms('GET', '/v1/clouds', await h.api('GET', '/v1/clouds', { role: 'viewer' }));
    conforms('GET', '/v1/clouds', await h.api('GET', '/v1/clouds', { role: null }));
    const current = await h.api('GET', BASE, { role: 'viewer' });
    conforms('GET', P, await h.api('GET', BASE, { role: 'viewer', headers: { 'if-none-match': current.headers.get('etag')! } }));
    conforms('GET', P, await h.api('GET', `${BASE}?version=x`, { role: 'viewer' }));
    conforms('GET', P, await h.api('GET', `${BASE}?version=99`, { role: 'viewer' }));
    conforms('GET', `${P}/versions`, await h.api('GET', `${BASE}/versions`, { role: 'viewer' }));
    conforms('GET', `${P}/versions`, await h.api('GET', `${BASE}/versions`, { role: null }));
  });

  it('resolve: 200 (plain, explain, sticky), 400, 403, 404, 422', async () => {
    const P = '/v1/clouds/{cloud}/iam-mapping/resolve';
    const launch = { workload_type: 'job', project: 'p', user: 'user2@example.com' };
    conforms('POST', P, await h.api('POST', `${BASE}/resolve`, { role: 'control-plane', body: launch }));
    const explained = await h.api('POST', `${BASE}/resolve?explain=true`, { role: 'control-plane', body: { ...launch, user: 'nobody@example.com' } });
    expect(explained.json).toMatchObject({ source: 'CLOUD_DEFAULT', rule_index: null });
    conforms('POST', P, explained);
    conforms('POST', P, await h.api('POST', `${BASE}/resolve`, { role: 'control-plane', body: { ...launch, cluster_id: 'c1' } }));
    conforms('POST', P, await h.api('POST', `${BASE}/resolve?explain=true`, { role: 'control-plane', body: { ...launch, cluster_id: 'c1' } }));
    conforms('GET', `/v1/clouds/{cloud}/iam-mapping/bindings`, await h.api('GET', `${BASE}/bindings`, { role: 'viewer' }));
    conforms('DELETE', `/v1/clouds/{cloud}/iam-mapping/bindings/{cluster_id}`, await h.api('DELETE', `${BASE}/bindings/c1`, { role: 'viewer' }));
    conforms('DELETE', `/v1/clouds/{cloud}/iam-mapping/bindings/{cluster_id}`, await h.api('DELETE', `${BASE}/bindings/c1`));
    conforms('DELETE', `/v1/clouds/{cloud}/iam-mapping/bindings/{cluster_id}`, await h.api('DELETE', `${BASE}/bindings/c1`));
    conforms('POST', P, await h.api('POST', `${BASE}/resolve`, { role: 'control-plane', body: { ...launch, workload_type: 'batch' } }));
    conforms('POST', P, await h.api('POST', `${BASE}/resolve`, { role: 'viewer', body: launch }));
    conforms('POST', P, await h.api('POST', '/v1/clouds/cldrsrc_none/iam-mapping/resolve', { role: 'control-plane', body: launch }));

    const failing = SEED_EXAMPLES.eks.replace(/cldrsrc_XXXX/, 'cldrsrc_fail').replace('CLOUD_DEFAULT', 'FAIL');
    expect((await h.api('PUT', '/v1/clouds/cldrsrc_fail/iam-mapping', { body: failing })).status).toBe(200);
    const noMatch = await h.api('POST', '/v1/clouds/cldrsrc_fail/iam-mapping/resolve?explain=true', {
      role: 'control-plane',
      body: { ...launch, user: 'x@example.com' },
    });
    expect(noMatch.json.error.code).toBe('NO_MATCHING_RULE');
    conforms('POST', P, noMatch);
  });

  it('provisioning status while running and once done', async () => {
    const P = '/v1/clouds/{cloud}/iam-mapping/provisioning';
    let res = await h.api('GET', `${BASE}/provisioning`, { role: 'viewer' });
    conforms('GET', P, res);
    await h.server.workflow.idle();
    res = await h.api('GET', `${BASE}/provisioning`, { role: 'viewer' });
    expect(res.json.status, JSON.stringify(res.json)).toBe('SUCCEEDED');
    expect(res.json.resources.length).toBeGreaterThan(0);
    conforms('GET', P, res);
    conforms('GET', P, await h.api('GET', '/v1/clouds/cldrsrc_none/iam-mapping/provisioning', { role: 'viewer' }));
  });

  it.skipIf(!hasDrift)('drift checks: 404 before the first, run (owner only), latest, history', async () => {
    const R = '/v1/clouds/{cloud}/drift-checks';
    conforms('GET', `${R}/latest`, await h.api('GET', `/v1/clouds/${CLOUD}/drift-checks/latest`, { role: 'viewer' }));
    const run = await h.api('POST', `/v1/clouds/${CLOUD}/drift-checks`);
    expect(run.json.drifted).toBe(false);
    conforms('POST', R, run);
    conforms('POST', R, await h.api('POST', `/v1/clouds/${CLOUD}/drift-checks`, { role: 'viewer' }));
    conforms('POST', R, await h.api('POST', `/v1/clouds/${CLOUD}/drift-checks`, { body: { repair: 'yes' } }));
    // Drift made by hand: the service account loses its annotation.
    const sa = `/sandbox/k8s/api/v1/namespaces/anyscale-operator/serviceaccounts/kubernetes-service-account-name1`;
    const patched = await fetch(`${h.server.url}${sa}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ metadata: { annotations: { 'eks.amazonaws.com/role-arn': null } } }),
    });
    expect(patched.status).toBe(200);
    const drifted = await h.api('POST', `/v1/clouds/${CLOUD}/drift-checks`);
    expect(drifted.json.drifted).toBe(true);
    expect(drifted.json.findings.length).toBeGreaterThan(0);
    conforms('POST', R, drifted);
    conforms('GET', `${R}/latest`, await h.api('GET', `/v1/clouds/${CLOUD}/drift-checks/latest`, { role: 'viewer' }));
    conforms('GET', R, await h.api('GET', `/v1/clouds/${CLOUD}/drift-checks?limit=5`, { role: 'viewer' }));
    conforms('GET', R, await h.api('GET', `/v1/clouds/${CLOUD}/drift-checks?limit=0`, { role: 'viewer' }));
    conforms('GET', `${R}/background`, await h.api('GET', `/v1/clouds/${CLOUD}/drift-checks/background`, { role: 'viewer' }));
    // Past the deadline (lowered to 1 ms here): 202, and the check listed as running in the background.
    const deadline = h.server.app.config.driftDeadlineMs;
    h.server.app.config.driftDeadlineMs = 1;
    try {
      const accepted = await h.api('POST', `/v1/clouds/${CLOUD}/drift-checks`);
      expect(accepted.status, accepted.text).toBe(202);
      conforms('POST', R, accepted);
      conforms('GET', `${R}/background`, await h.api('GET', `/v1/clouds/${CLOUD}/drift-checks/background`, { role: 'viewer' }));
      await vi.waitFor(
        async () =>
          expect((await h.api('GET', `/v1/clouds/${CLOUD}/drift-checks/latest`, { role: 'viewer' })).json.checked_at >= accepted.json.requested_at).toBe(true),
        { timeout: 30_000, interval: 50 },
      );
    } finally {
      h.server.app.config.driftDeadlineMs = deadline;
    }
  });

  it('plan: 200 with changes and with none, 400 with every problem, 403 for a viewer', async () => {
    const P = '/v1/clouds/{cloud}/iam-mapping/plan';
    await h.server.workflow.idle();
    const draft = SEED_EXAMPLES.eks.replace('value: kubernetes-service-account-name2', 'value: ml-team-b');
    const planned = await h.api('POST', `${BASE}/plan`, { body: draft });
    expect(planned.json.changes.length).toBeGreaterThan(0);
    conforms('POST', P, planned);
    conforms('POST', P, await h.api('POST', `${BASE}/plan`, { body: SEED_EXAMPLES.eks.replace('fallback_rule: CLOUD_DEFAULT', 'fallback_rule: NONE') }));
    conforms('POST', P, await h.api('POST', `${BASE}/plan`, { body: SEED_EXAMPLES.eks, role: 'viewer' }));
    conforms('POST', P, await h.api('POST', `${BASE}/plan`, { body: '<x/>', contentType: 'application/xml' }));
  });

  it('bad cloud id → 400 on every /v1/clouds/{cloud} route, body over the limit → 413 on every route with a body, each as documented', async () => {
    const big = 'x'.repeat(5 * 1024 * 1024 + 1);
    for (const route of ROUTES) {
      if (!hasDrift && DRIFT_KEYS.includes(routeKey(route))) continue;
      const real = route.path.replace('{cluster_id}', 'c1');
      if (route.path.startsWith('/v1/clouds/{cloud}')) {
        const res = await h.api(route.method, real.replace('{cloud}', 'bad%20id'), {
          body: route.method === 'GET' || route.method === 'DELETE' ? undefined : {},
        });
        expect(res.status, `${routeKey(route)}: ${res.text}`).toBe(400);
        conforms(route.method, route.path, res);
      }
      if ((route as { request?: { body?: unknown } }).request?.body !== undefined) {
        const res = await h.api(route.method, real.replace('{cloud}', CLOUD), { body: big, contentType: 'application/json' });
        expect(res.status, routeKey(route)).toBe(413);
        conforms(route.method, route.path, res);
      }
    }
  });

  it('exercised a success response of every served route', () => {
    for (const route of ROUTES) {
      const key = operationKey(route.method, route.path);
      if (!hasDrift && DRIFT_KEYS.includes(key)) continue;
      expect(
        [...checked].some((c) => c.startsWith(`${key} 2`)),
        `${key} 2xx`,
      ).toBe(true);
    }
  });
});
