/**
 * Issue 5: ≥ 10,000 generated malformed requests over HTTP against one local server (PUT config,
 * POST resolve, the reads), sent on keep-alive connections with bounded concurrency. No response
 * may be a 5xx, every 4xx carries exactly the contract's error body, the stored config (current
 * version and history) is unchanged afterwards and no built-in prototype is polluted.
 */
import * as fc from 'fast-check';
import { request } from 'node:http';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../functions/http.js';
import { startHarness, type Harness } from '../helpers/local.js';
import { SANDBOX_DEFAULTS } from '../../local/server.js';
import { contractProblems, pool, prototypeFingerprint, rawClient, type RawRequest, type RawResponse } from './util.js';

const SEED = 20_260_105;
const CONCURRENCY = 20;
const CLOUD = 'cldrsrc_fuzz';
const MAPPING = `/v1/clouds/${CLOUD}/iam-mapping`;
const RESOLVE = `${MAPPING}/resolve`;
/** Never the current etag: a PUT that passes validation ends in 412, never in a new version. */
const STALE = '"0-000000000000"';

/** Every field of the config shape, with values of the right type. */
const BASE = {
  cloud_deployment_id: CLOUD,
  cloud_provider: 'AWS',
  compute_stack: 'K8S',
  dataplane_iam_mapping: {
    rules: [
      { selector: 'workload-type in (workspace),user=user1@example.com', value: 'sa-one' },
      { selector: 'project=ml,user!=intern@example.com', value: 'sa-two' },
    ],
    fallback_rule: 'CLOUD_DEFAULT',
    default_value: 'sa-default',
  },
  provisioning: {
    namespaces: ['anyscale-operator', 'team-b'],
    clusters: [{ name: 'sandbox', region: 'us-east-1' }],
    default_bucket: 'fuzz-bucket',
    role_name_prefix: 'fz-',
    role_path: '/iam-mapping/fuzz/',
    trust_policy_quota: 2048,
    service_accounts: {
      'sa-one': {
        namespaces: ['team-b'],
        extra_policy_arns: ['arn:aws:iam::123456789012:policy/x'],
        role_name: 'fuzz-role-one',
        adopt_role: false,
        adopt_service_account: false,
        adopt_instance_profile: false,
      },
      'sa-two': { subjects: ['system:serviceaccount:*:sa-two'] },
    },
    drift: { mode: 'report', delete_orphans: false },
  },
};
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = Array<string | number>;

const clone = <T>(v: T): T => structuredClone(v);
const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

function allPaths(v: Json, prefix: Path = []): Path[] {
  const out: Path[] = [prefix];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...allPaths(x, [...prefix, i])));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...allPaths(x, [...prefix, k]));
  return out;
}
const PATHS = allPaths(BASE as Json).filter((p) => p.length > 0);
const OBJECT_PATHS = [[], ...PATHS].filter((p) => kind(getIn(BASE as Json, p)) === 'object');

function getIn(v: Json, path: Path): Json {
  return path.reduce<Json>((o, k) => (o as Record<string | number, Json>)[k] as Json, v);
}
function setIn(v: Json, path: Path, value: Json | undefined): Json {
  const doc = clone(v);
  const parent = getIn(doc, path.slice(0, -1)) as Record<string | number, Json>;
  const key = path[path.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  } else if (key === '__proto__') Object.defineProperty(parent, key, { value, enumerable: true, writable: true, configurable: true });
  else parent[key] = value;
  return doc;
}

const headersFor = (token: string, contentType: string | undefined, extra: Record<string, string> = {}) => ({
  authorization: `Bearer ${token}`,
  ...(contentType !== undefined ? { 'content-type': contentType } : {}),
  ...extra,
});

/** Percent-escapes what Node's client refuses in a request target, leaving `%` sequences as they are (malformed ones included). */
const escapePath = (s: string) =>
  s.replace(/[^\x21-\x7e]|[#?]/gu, (c) => [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''));

// ------------------------------------------------------------------------------------------ arbitraries

const jsonAny = fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>;
const wrongTypeFor = (original: Json) => jsonAny.filter((v) => kind(v) !== kind(original));
/** Strings no field accepts: they all carry a quote and a space. */
const badString = fc.string({ maxLength: 40 }).map((s) => `"${s} '`);
const weirdText = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: 'grapheme', maxLength: 100 }),
  fc.constantFrom(
    '',
    ' ',
    '\n',
    '\u0000',
    '{',
    '[',
    ']]',
    '"',
    "'",
    ':',
    '- -',
    '---',
    '...',
    '%YAML 1.1',
    '!!python/object:os.system',
    '&a *a',
    '? ',
    '|',
    '>',
    '@',
    '`',
  ),
);
const contentTypes = fc.constantFrom(
  'application/json',
  'application/yaml',
  'application/x-yaml',
  'text/yaml',
  'text/plain',
  'application/octet-stream',
  'application/json; charset=utf-8',
  'application/merge-patch+json',
  'text/html',
  'application/xml',
  'multipart/form-data; boundary=x',
  'application/x-www-form-urlencoded',
  'image/png',
  'garbage',
  ';',
  'application/json; charset=utf-16',
  '*/*',
  '',
);
const prototypeKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'isAdmin');
const pollution = fc.constantFrom<Json>(
  { polluted: 'yes' },
  { prototype: { polluted: 'yes' } },
  { __proto__: { polluted: 'yes' } } as unknown as Json,
  { constructor: { prototype: { polluted: 'yes' } } },
  'polluted',
  [{ polluted: 'yes' }],
);

function generate(tokens: { owner: string; viewer: string; controlPlane: string }): RawRequest[] {
  const out: RawRequest[] = [];
  const sample = <T>(arb: fc.Arbitrary<T>, n: number, salt: number) => fc.sample(arb, { numRuns: n, seed: SEED + salt });
  const put = (label: string, body: Buffer | string, contentType: string | undefined, allowed: number[], extra: Record<string, string> = {}): RawRequest => ({
    method: 'PUT',
    path: MAPPING,
    headers: headersFor(tokens.owner, contentType, extra),
    body,
    label,
    allowed,
  });
  const asBody = (doc: Json, yaml: boolean) => (yaml ? stringify(doc) : JSON.stringify(doc));

  // A. Wrong types at every field (JSON and YAML): always 400 INVALID_CONFIG.
  for (const [path, value, yaml] of sample(
    fc.constantFrom(...PATHS).chain((p) => fc.tuple(fc.constant(p), wrongTypeFor(getIn(BASE as Json, p)), fc.boolean())),
    1700,
    1,
  )) {
    const doc = setIn(BASE, path, value);
    out.push(
      put(`wrong type at ${path.join('.')}: ${JSON.stringify(value).slice(0, 60)}`, asBody(doc, yaml), yaml ? 'application/yaml' : 'application/json', [400]),
    );
  }
  // A2. Bad strings, deleted fields, unknown fields at every level (some deletions leave a valid config: stale If-Match).
  for (const [op, path, value, key, yaml] of sample(
    fc.tuple(
      fc.constantFrom('bad-string', 'delete', 'unknown-key'),
      fc.constantFrom(...PATHS),
      badString,
      fc.string({ minLength: 1, maxLength: 12 }),
      fc.boolean(),
    ),
    1200,
    2,
  )) {
    let doc: Json;
    if (op === 'bad-string') doc = setIn(BASE, path, value);
    else if (op === 'delete') doc = setIn(BASE, path, undefined);
    else {
      const objectPath = OBJECT_PATHS[(path.length * 7 + key.length) % OBJECT_PATHS.length]!;
      // service_accounts is a map: a new key there is a (bad or good) name, not an unknown field.
      doc = setIn(BASE, [...objectPath, `x_${key}`], 'v');
    }
    out.push(put(`${op} at ${path.join('.')}`, asBody(doc, yaml), yaml ? 'application/yaml' : 'application/json', [400, 412], { 'if-match': STALE }));
  }

  // B. Broken syntax: truncated and mutated JSON/YAML, random text under every content type.
  const jsonText = JSON.stringify(BASE);
  const yamlText = stringify(BASE);
  for (const [yaml, cut] of sample(fc.tuple(fc.boolean(), fc.double({ min: 0, max: 1, noNaN: true })), 500, 3)) {
    const text = yaml ? yamlText : jsonText;
    const at = Math.floor(cut * (text.length - 1));
    out.push(
      put(`truncated ${yaml ? 'YAML' : 'JSON'} at ${at}`, text.slice(0, at), yaml ? 'application/yaml' : 'application/json', [400, 412], { 'if-match': STALE }),
    );
  }
  for (const [yaml, edits] of sample(
    fc.tuple(fc.boolean(), fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.nat(3), weirdText), { minLength: 1, maxLength: 4 })),
    700,
    4,
  )) {
    let text = yaml ? yamlText : jsonText;
    for (const [where, del, insert] of edits) {
      const at = Math.floor(where * text.length);
      text = text.slice(0, at) + insert.slice(0, 20) + text.slice(at + del);
    }
    out.push(put(`mutated ${yaml ? 'YAML' : 'JSON'}`, text, yaml ? 'application/yaml' : 'application/json', [400, 412], { 'if-match': STALE }));
  }
  for (const [text, ct] of sample(fc.tuple(weirdText, contentTypes), 600, 5)) {
    out.push(put(`random text as ${ct}`, text, ct || undefined, [400, 412, 415], { 'if-match': STALE }));
  }

  // C. Huge strings, many rules, many keys.
  const huge = (n: number, c = 'a') => c.repeat(n);
  const hugeDocs: Array<[string, Json]> = [
    ['selector over 4096', setIn(BASE, ['dataplane_iam_mapping', 'rules', 0, 'selector'], `user=${huge(5000)}`)],
    ['value over 256', setIn(BASE, ['dataplane_iam_mapping', 'rules', 0, 'value'], huge(300))],
    ['1 MiB value', setIn(BASE, ['dataplane_iam_mapping', 'rules', 0, 'value'], huge(1 << 20))],
    ['1 MiB selector', setIn(BASE, ['dataplane_iam_mapping', 'rules', 0, 'selector'], `user in (${huge(1 << 20, 'x,')})`)],
    ['long cloud id', setIn(BASE, ['cloud_deployment_id'], `c${huge(200)}`)],
    ['1 MiB key', setIn(BASE, [huge(1 << 20)], 1)],
    [
      '25,001 rules',
      setIn(
        BASE,
        ['dataplane_iam_mapping', 'rules'],
        Array.from({ length: 25_001 }, () => ({ selector: '', value: 'sa' })),
      ),
    ],
    ['10,000 unknown keys', { ...(BASE as Record<string, Json>), ...Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, i])) }],
    [
      '2,000 bad rules',
      setIn(
        BASE,
        ['dataplane_iam_mapping', 'rules'],
        Array.from({ length: 2_000 }, () => ({ selector: 'team=x', value: 'Bad Value' })),
      ),
    ],
    [
      '10,000 namespaces',
      setIn(
        BASE,
        ['provisioning', 'namespaces'],
        Array.from({ length: 10_000 }, (_, i) => `ns-${i}`),
      ),
    ],
    ['huge number', setIn(BASE, ['provisioning', 'trust_policy_quota'], 1e308)],
    ['selector of 4096 parens', setIn(BASE, ['dataplane_iam_mapping', 'rules', 0, 'selector'], huge(4096, '('))],
    [
      'selector of 2000 requirements',
      setIn(BASE, ['dataplane_iam_mapping', 'rules', 0, 'selector'], Array.from({ length: 1000 }, (_, i) => `user!=u${i}`).join(',')),
    ],
  ];
  for (const [label, doc] of hugeDocs) {
    for (const yaml of [false, true])
      out.push(put(`huge: ${label}`, asBody(doc, yaml), yaml ? 'application/yaml' : 'application/json', [400, 412, 413], { 'if-match': STALE }));
  }

  // D. Deep nesting (JSON and YAML, whole body and inside a field).
  for (const [depth, shape, yaml, inField] of sample(
    fc.tuple(fc.constantFrom(100, 1_000, 5_000, 20_000, 100_000), fc.constantFrom('array', 'object'), fc.boolean(), fc.boolean()),
    120,
    6,
  )) {
    const d = yaml ? Math.min(depth, 20_000) : depth;
    const nested = shape === 'array' ? `${'['.repeat(d)}1${']'.repeat(d)}` : `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`;
    const text = inField ? JSON.stringify(setIn(BASE, ['dataplane_iam_mapping', 'rules', 0, 'value'], 'PLACEHOLDER')).replace('"PLACEHOLDER"', nested) : nested;
    out.push(put(`deep ${shape} ${d} ${yaml ? 'YAML' : 'JSON'}${inField ? ' in a field' : ''}`, text, yaml ? 'application/yaml' : 'application/json', [400]));
  }
  for (const depth of [50, 500, 2_000]) {
    const block = Array.from({ length: depth }, (_, i) => `${' '.repeat(i)}a:`).join('\n');
    const seq = Array.from({ length: depth }, (_, i) => `${'  '.repeat(i)}-`).join('\n');
    out.push(put(`deep block mapping ${depth}`, block, 'application/yaml', [400]));
    out.push(put(`deep block sequence ${depth}`, seq, 'application/yaml', [400]));
  }

  // E. YAML alias bombs and alias tricks.
  const laughs = (levels: number, width: number) => {
    const lines = [`l0: &l0 [${Array(width).fill('"lol"').join(',')}]`];
    for (let i = 1; i < levels; i++)
      lines.push(
        `l${i}: &l${i} [${Array(width)
          .fill(`*l${i - 1}`)
          .join(',')}]`,
      );
    return `${lines.join('\n')}\n`;
  };
  for (const [levels, width] of sample(fc.tuple(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 2, max: 12 })), 80, 7)) {
    out.push(put(`alias bomb ${levels}x${width}`, laughs(levels, width), 'application/yaml', [400]));
  }
  const aliasDocs = [
    `${yamlText.replace('rules:', 'rules: &r')}extra: *r\n`,
    yamlText.replace('value: sa-one', 'value: &v sa-one').replace('value: sa-two', 'value: *v'),
    `base: &b {cloud_provider: AWS}\n<<: *b\n${yamlText}`,
    `a: &a\n  b: *a\n`,
    `*undefined_alias\n`,
    `a: &a [*a]\n`,
    `dataplane_iam_mapping: &d\n  rules: [*d]\n`,
  ];
  for (const text of aliasDocs) out.push(put('alias trick', text, 'application/yaml', [400, 412], { 'if-match': STALE }));

  // F. Prototype keys at every object level, in JSON and YAML, in config and resolve bodies.
  for (const [key, value, yaml, objectIndex] of sample(fc.tuple(prototypeKey, pollution, fc.boolean(), fc.nat()), 500, 8)) {
    const path = [...OBJECT_PATHS[objectIndex % OBJECT_PATHS.length]!, key];
    const doc = setIn(BASE, path, value);
    let text = asBody(doc, yaml);
    if (!yaml && key !== '__proto__' && objectIndex % 3 === 0) text = text.replace(`"${key}"`, '"__proto__"');
    out.push(put(`prototype key ${path.join('.')}`, text, yaml ? 'application/yaml' : 'application/json', [400, 412], { 'if-match': STALE }));
  }
  const protoTexts = [
    '{"__proto__":{"polluted":"yes"}}',
    '{"constructor":{"prototype":{"polluted":"yes"}}}',
    '__proto__:\n  polluted: yes\n',
    'constructor:\n  prototype:\n    polluted: yes\n',
    '"__proto__": {polluted: yes}\n',
    '? __proto__\n: {polluted: yes}\n',
    '[{"__proto__":{"polluted":"yes"}}]',
  ];
  for (const text of protoTexts) {
    out.push(put('prototype text', text, text.startsWith('{') || text.startsWith('[') ? 'application/json' : 'application/yaml', [400]));
    out.push({
      method: 'POST',
      path: RESOLVE,
      headers: headersFor(tokens.controlPlane, 'application/json'),
      body: text,
      label: 'prototype resolve',
      allowed: [400, 415],
    });
  }

  // G. Non-UTF-8 bytes under textual and other content types.
  for (const [bytes, ct, at] of sample(fc.tuple(fc.uint8Array({ minLength: 0, maxLength: 300 }), contentTypes, fc.nat()), 600, 9)) {
    const buf = Buffer.from(bytes);
    const invalid = Buffer.concat([buf.subarray(0, at % (buf.length + 1)), Buffer.from([0xc3, 0x28, 0xff]), buf.subarray(at % (buf.length + 1))]);
    if (at % 2 === 0) out.push(put(`non-UTF-8 as ${ct}`, invalid, ct || undefined, [400, 415]));
    else
      out.push({
        method: 'POST',
        path: RESOLVE,
        headers: headersFor(tokens.controlPlane, ct || undefined),
        body: invalid,
        label: `non-UTF-8 resolve as ${ct}`,
        allowed: [400, 415],
      });
  }
  const validYamlWithBadByte = Buffer.concat([Buffer.from(yamlText.replace('sa-one', 'sa-on')), Buffer.from('# \xff\xfe', 'latin1')]);
  out.push(put('valid YAML plus a latin-1 comment', validYamlWithBadByte, 'application/yaml', [400]));

  // H. Content types with a body that is otherwise fine.
  for (const ct of sample(contentTypes, 400, 10)) {
    out.push(put(`valid body as ${ct}`, yamlText, ct || undefined, [400, 412, 415], { 'if-match': STALE }));
  }

  // J. Bad paths and cloud ids, every method.
  const cloudIds = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.constantFrom(
      '..',
      '.',
      '%2e%2e',
      '%2F',
      'a%2Fb',
      '%00',
      '%',
      '%E0%A4%A',
      '%zz',
      '%u0041',
      'a%',
      '-x',
      '_x',
      'x'.repeat(129),
      'x'.repeat(10_000),
      'cldrsrc_%C0%AF',
      '%EF%BB%BF',
      'cldrsrc XXXX',
      'cldrsrc_fuzz%00',
      'CLDRSRC_FUZZ',
      '%25',
      '*',
      '${cloud}',
      '{cloud}',
    ),
  );
  const suffixes = [
    '/iam-mapping',
    '/iam-mapping/',
    '/iam-mapping/versions',
    '/iam-mapping/resolve',
    '/iam-mapping/provisioning',
    '/iam-mapping/x',
    '',
    '/drift-checks/latest/x',
  ];
  const methods = ['GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'];
  for (const [id, suffix, method] of sample(fc.tuple(cloudIds, fc.constantFrom(...suffixes), fc.constantFrom(...methods)), 1300, 11)) {
    if (id === CLOUD) continue;
    const withBody = method === 'PUT' || method === 'POST' || method === 'PATCH';
    out.push({
      method,
      path: escapePath(`/v1/clouds/${id}${suffix}`),
      headers: headersFor(tokens.owner, withBody ? 'application/json' : undefined),
      ...(withBody ? { body: suffix.endsWith('resolve') ? '{"workload_type":"job","project":"p","user":"u"}' : jsonText } : {}),
      label: `${method} cloud ${JSON.stringify(id).slice(0, 40)}${suffix}`,
      // a valid-looking foreign cloud id with the fuzz cloud's body is a 400 (id mismatch), never a write
    });
  }
  const oddPaths = [
    '/',
    '//',
    '/v1',
    '/v1/',
    '/v2/healthz',
    '/V1/healthz',
    '//v1/healthz',
    '/v1/clouds',
    '/v1/clouds/',
    '/v1/clouds//iam-mapping',
    `/v1/clouds/${CLOUD}//iam-mapping`,
    `/v1/clouds/${CLOUD}/iam-mapping/resolve/`,
    `/v1/clouds/${CLOUD}/../${CLOUD}/iam-mapping`,
    `/v1/clouds/${CLOUD}/iam-mapping%2Fresolve`,
    '/sandbox/../v1/healthz',
    '/v1/healthz?x=%',
    '/%',
    '/%%',
    '/v1/clouds/a/b/c/d/e/f/g/h',
    `/v1/clouds/${CLOUD}/iam-mapping;jsessionid=1`,
    '*',
    `/v1/clouds/${CLOUD}/IAM-MAPPING`,
  ];
  for (const p of oddPaths) for (const method of methods) out.push({ method, path: p, headers: headersFor(tokens.owner, undefined), label: `${method} ${p}` });

  // K. Bad query parameters on every route.
  const qValue = fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.constantFrom('', '0', '-1', '1.5', '1e3', '01', '99999999999', '4294967296', 'NaN', 'true', '%', '%zz', '1%00', ' 1', '1,2', 'null', '[]', '{}'),
  );
  const qKey = fc.constantFrom('version', 'limit', 'before', 'explain', 'x', '__proto__', 'constructor', 'version[]', '');
  const qRoutes: Array<[string, string]> = [
    ['GET', MAPPING],
    ['GET', `${MAPPING}/versions`],
    ['GET', `${MAPPING}/provisioning`],
    ['POST', RESOLVE],
  ];
  for (const [[method, path], params] of sample(
    fc.tuple(fc.constantFrom(...qRoutes), fc.array(fc.tuple(qKey, qValue), { minLength: 1, maxLength: 4 })),
    1000,
    12,
  )) {
    const qs = params.map(([k, v]) => `${k}=${escapePath(v).replace(/&/g, '%26')}`).join('&');
    out.push({
      method,
      path: `${path}?${qs}`,
      headers: headersFor(tokens.controlPlane, method === 'POST' ? 'application/json' : undefined),
      ...(method === 'POST' ? { body: '{"workload_type":"job","project":"p","user":"u"}' } : {}),
      label: `${method} ${path}?${qs}`.slice(0, 200),
    });
  }

  // L. Headers: If-Match, Accept, If-None-Match, Authorization, roles.
  const headerText = fc.string({ maxLength: 60 }).map((s) => s.replace(/[^\x20-\x7e]/g, '').replace(/\*/g, '')); // `*` would match any version
  for (const [which, value] of sample(fc.tuple(fc.constantFrom('if-match', 'accept', 'if-none-match', 'authorization', 'role'), headerText), 800, 13)) {
    if (which === 'if-match') out.push(put(`If-Match ${value}`, jsonText, 'application/json', [400, 412], { 'if-match': value || STALE }));
    else if (which === 'accept' || which === 'if-none-match') {
      out.push({
        method: 'GET',
        path: MAPPING,
        headers: { ...headersFor(tokens.viewer, undefined), [which]: value },
        label: `${which} ${value}`,
        allowed: [200, 304, 406],
      });
    } else if (which === 'authorization') {
      out.push({
        method: 'PUT',
        path: MAPPING,
        headers: { authorization: value, 'content-type': 'application/json' },
        body: jsonText,
        label: `authorization ${value}`,
        allowed: [401],
      });
    } else {
      const token = value.length % 2 ? tokens.viewer : tokens.controlPlane;
      out.push({
        method: 'PUT',
        path: MAPPING,
        headers: headersFor(token, 'application/json'),
        body: jsonText,
        label: 'PUT without the owner role',
        allowed: [403],
      });
    }
  }
  for (const auth of [
    'Bearer',
    'Bearer ',
    'bearer x',
    'Basic dXNlcjpwYXNz',
    `Bearer ${tokens.owner}x`,
    `Bearer ${tokens.owner.split('.').slice(0, 2).join('.')}.`,
    `Bearer ${tokens.owner} ${tokens.owner}`,
    'Bearer eyJhbGciOiJub25lIn0.eyJyb2xlIjoib3duZXIifQ.',
  ]) {
    out.push({
      method: 'POST',
      path: RESOLVE,
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: '{}',
      label: `authorization ${auth.slice(0, 30)}`,
      allowed: [401],
    });
  }

  // M. Resolve bodies: wrong types, missing and extra fields, huge values, anything at all.
  const good = { workload_type: 'job', project: 'p', user: 'u@example.com', cluster_id: 'ses_fuzz' };
  const resolveField = fc.constantFrom('workload_type', 'project', 'user', 'cluster_id');
  const resolveBody = fc.oneof(
    resolveField.chain((f) => wrongTypeFor(good[f]).map((v) => ({ ...good, [f]: v }))),
    resolveField.map((f) => {
      const { [f]: _, ...rest } = good;
      return rest;
    }),
    fc.tuple(fc.string({ minLength: 1, maxLength: 10 }), jsonAny).map(([k, v]) => ({ ...good, [`x${k}`]: v })),
    fc.tuple(resolveField, badString).map(([f, v]) => ({ ...good, [f]: v })),
    fc.tuple(resolveField, fc.integer({ min: 257, max: 100_000 })).map(([f, n]) => ({ ...good, [f]: 'a'.repeat(n) })),
    jsonAny,
  );
  for (const [body, explain, ct] of sample(
    fc.tuple(resolveBody, fc.boolean(), fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/yaml', 'text/plain')),
    2000,
    14,
  )) {
    out.push({
      method: 'POST',
      path: explain ? `${RESOLVE}?explain=true` : RESOLVE,
      headers: headersFor(tokens.controlPlane, ct),
      body: JSON.stringify(body) ?? '',
      label: `resolve ${ct} ${JSON.stringify(body)?.slice(0, 80)}`,
    });
  }
  for (const text of ['', ' ', 'null', '[]', '""', '1', 'true', '{', '{}}', '{"workload_type":"job",}', "{'workload_type':'job'}", 'workload_type: job']) {
    out.push({
      method: 'POST',
      path: RESOLVE,
      headers: headersFor(tokens.controlPlane, 'application/json'),
      body: text,
      label: `resolve text ${JSON.stringify(text)}`,
      allowed: [400],
    });
  }
  // A leading byte order mark is dropped (functions/http.ts bodyText): the launch behind it is read.
  out.push({
    method: 'POST',
    path: RESOLVE,
    headers: headersFor(tokens.controlPlane, 'application/json'),
    body: '\ufeff{"workload_type":"job","project":"p","user":"u"}',
    label: 'resolve text with a BOM',
    allowed: [200],
  });
  return out;
}

// ------------------------------------------------------------------------------------------ the run

let h: Harness;
let before: { current: string; versions: string; v1: string; v2: string };
const snapshot = async () => {
  const current = await h.api('GET', MAPPING, { role: 'viewer' });
  const versions = await h.api('GET', `${MAPPING}/versions`, { role: 'viewer' });
  const v1 = await h.api('GET', `${MAPPING}?version=1`, { role: 'viewer' });
  const v2 = await h.api('GET', `${MAPPING}?version=2`, { role: 'viewer' });
  expect([current.status, versions.status, v1.status, v2.status]).toEqual([200, 200, 200, 200]);
  return { current: current.text, versions: versions.text, v1: v1.text, v2: v2.text };
};

beforeAll(async () => {
  // BASE attaches one policy: the deployment's allow-list names it (ALLOWED_POLICY_ARNS).
  h = await startHarness({ defaults: { ...SANDBOX_DEFAULTS, allowedPolicyArns: ['arn:aws:iam::123456789012:policy/x'] } });
  const v1 = await h.api('PUT', MAPPING, { body: BASE });
  expect(v1.status, v1.text).toBe(200);
  const v2 = await h.api('PUT', MAPPING, {
    body: stringify(setIn(BASE, ['dataplane_iam_mapping', 'default_value'], 'sa-default-2')),
    contentType: 'application/yaml',
  });
  expect(v2.status, v2.text).toBe(200);
  await h.server.workflow.idle();
  before = await snapshot();
});
afterAll(async () => {
  await h?.stop();
});

describe('HTTP fuzzing', () => {
  it('≥ 10,000 malformed requests: no 5xx, contract error bodies, store unchanged, no prototype pollution', async () => {
    const prototypesBefore = prototypeFingerprint();
    const tokens = { owner: await h.token('owner'), viewer: await h.token('viewer'), controlPlane: await h.token('control-plane') };
    const requests = generate(tokens);
    const client = rawClient(h.server.port, CONCURRENCY);
    const failures: string[] = [];
    const slow: Array<[number, string]> = [];
    const statuses = new Map<number, number>();
    const started = Date.now();
    try {
      await pool(requests, CONCURRENCY, async (r) => {
        let res: RawResponse;
        const t0 = performance.now();
        try {
          res = await client.send(r);
          if (process.env.FUZZ_PROFILE) slow.push([performance.now() - t0, r.label.slice(0, 60)]);
        } catch (e) {
          failures.push(`${r.label}: client error ${(e as Error).message}`);
          return;
        }
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const problems = contractProblems(res, r.method);
        if (r.allowed && !r.allowed.includes(res.status)) problems.push(`status ${res.status} not in ${r.allowed.join('/')}`);
        if (r.method === 'PUT' && r.path === MAPPING && res.status < 300) problems.push('stored a new version');
        if (problems.length) failures.push(`${r.label}: ${problems.join('; ')} — ${res.text.slice(0, 160)}`);
      });
    } finally {
      client.close();
    }
    const elapsed = Date.now() - started;
    const summary = {
      requests: requests.length,
      ms: elapsed,
      perSecond: Math.round((requests.length / elapsed) * 1000),
      statuses: Object.fromEntries([...statuses].sort()),
    };
    console.log(`[fuzz-http] ${JSON.stringify(summary)}`);
    if (process.env.FUZZ_PROFILE) {
      const byKind = new Map<string, number>();
      for (const [ms, label] of slow) byKind.set(label.split(/[ :]/).slice(0, 2).join(' '), (byKind.get(label.split(/[ :]/).slice(0, 2).join(' ')) ?? 0) + ms);
      console.log(
        [...byKind]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 25)
          .map(([k, ms]) => `${Math.round(ms)} ms ${k}`)
          .join('\n'),
      );
      console.log(
        slow
          .sort((a, b) => b[0] - a[0])
          .slice(0, 15)
          .map(([ms, l]) => `${Math.round(ms)} ${l}`)
          .join('\n'),
      );
    }
    expect(failures.slice(0, 20), `${failures.length} failures`).toEqual([]);
    expect(requests.length).toBeGreaterThanOrEqual(10_000);

    await h.server.workflow.idle();
    expect(await snapshot()).toEqual(before);
    expect(prototypeFingerprint()).toBe(prototypesBefore);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
  }, 120_000);

  it('a YAML map of 50,000 distinct keys (0.7 MB) is refused in seconds, not minutes (duplicate keys are found in linear time)', async () => {
    const keys = Array.from({ length: 50_000 }, (_, i) => `k${i}: ${i}`);
    for (const body of [keys.join('\n'), `{${keys.join(', ')}}`, `${keys.join('\n')}\nk7: again`]) {
      const started = Date.now();
      const res = await h.api('PUT', MAPPING, { body, contentType: 'application/yaml' });
      expect(res.status).toBe(400);
      expect(contractProblems({ status: res.status, headers: Object.fromEntries(res.headers), text: res.text }, 'PUT')).toEqual([]);
      expect(Date.now() - started).toBeLessThan(10_000); // was ~40 s per request with the parser's pairwise key check
    }
    const dup = await h.api('PUT', MAPPING, { body: 'cloud_provider: AWS\nk: 1\nk: 2\n', contentType: 'application/yaml' });
    expect(dup.json.error.details[0]).toMatchObject({ path: '', line: 3, column: 1, message: expect.stringMatching(/unique/) });
  });

  it('bodies over 5 MiB → 413, streamed (chunked) or declared, and the server keeps serving', async () => {
    const token = await h.token('owner');
    const stream = (declared: number | null, total: number) =>
      new Promise<RawResponse>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: h.server.port,
            method: 'PUT',
            path: MAPPING,
            agent: false,
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/yaml', ...(declared !== null ? { 'content-length': declared } : {}) },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
              req.destroy();
            });
          },
        );
        req.on('error', (e) => (String(e).includes('EPIPE') || String(e).includes('ECONNRESET') ? undefined : reject(e)));
        const chunk = Buffer.alloc(64 * 1024, 'a');
        let sent = 0;
        const pump = () => {
          while (sent < total) {
            const n = Math.min(chunk.length, total - sent);
            sent += n;
            if (!req.write(chunk.subarray(0, n))) return void req.once('drain', pump);
          }
          req.end();
        };
        pump();
      });
    const cases: Array<[string, number | null, number]> = [
      ['chunked, 6 MiB', null, 6 * 1024 * 1024],
      ['chunked, limit + 1', null, MAX_BODY_BYTES + 1],
      ['declared 6 MiB', 6 * 1024 * 1024, 6 * 1024 * 1024],
      ['declared 1 GiB, 64 KiB sent', 1 << 30, 64 * 1024],
    ];
    for (const [label, declared, total] of cases) {
      const res = await stream(declared, total);
      expect(res.status, label).toBe(413);
      expect(contractProblems(res, 'PUT'), label).toEqual([]);
      expect(JSON.parse(res.text).error.code).toBe('PAYLOAD_TOO_LARGE');
    }
    // Exactly at the limit: read, then refused as a config (not 413).
    const atLimit = await stream(null, MAX_BODY_BYTES);
    expect(atLimit.status).toBe(400);
    expect((await h.api('GET', '/v1/healthz', { role: null })).status).toBe(200);
    expect(await snapshot()).toEqual(before);
  });
});
