/** The HTTP edge's parsing (functions/http.ts): If-Match, JSON bodies, body size — the one place each is done. */
import { describe, expect, it } from 'vitest';
import { bodyText, jsonBody, jsonReply, MAX_BODY_BYTES, parseIfMatch, wantsYaml, type HttpEvent } from '../../functions/http.js';
import { driftCheckRequestSchema, resolveRequestSchema } from '../../functions/http/schemas.js';
import { AppError } from '../../lib/errors.js';

const event = (body: string | undefined, contentType?: string, isBase64Encoded = false) =>
  ({ headers: contentType ? { 'content-type': contentType } : {}, ...(body !== undefined ? { body } : {}), isBase64Encoded }) as unknown as HttpEvent;

const failure = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e as AppError;
  }
  throw new Error('expected a failure');
};

describe('parseIfMatch', () => {
  it('normalises weak / quoted / list / *', () => {
    expect(parseIfMatch(undefined)).toBeUndefined();
    expect(parseIfMatch('*')).toEqual({ kind: 'any' });
    expect(parseIfMatch('"*"')).toEqual({ kind: 'any' });
    expect(parseIfMatch('W/"3-abc"')).toEqual({ kind: 'etags', etags: ['3-abc'] });
    expect(parseIfMatch(' "3-abc" , 4-def ')).toEqual({ kind: 'etags', etags: ['3-abc', '4-def'] });
  });
});

describe('wantsYaml', () => {
  it('negotiates Accept with q-values: YAML only when it ranks above JSON', () => {
    for (const accept of [
      'application/yaml',
      'application/yaml, application/json',
      'text/yaml',
      'application/x-yaml',
      'application/json;q=0.5, application/yaml',
    ])
      expect(wantsYaml(accept), accept).toBe(true);
    for (const accept of [
      undefined,
      '',
      '*/*',
      'application/json',
      'application/json, application/yaml',
      'application/yaml;q=0.1, application/json',
      'application/yaml;q=0',
      'text/html',
    ])
      expect(wantsYaml(accept), String(accept)).toBe(false);
  });
});

describe('jsonBody', () => {
  const launch = { workload_type: 'job', project: 'p', user: 'u' };
  it('parses a JSON body by the route schema', () => {
    expect(jsonBody(event(JSON.stringify(launch), 'application/json; charset=utf-8'), resolveRequestSchema, false, 'resolve request')).toEqual(launch);
  });
  it('415 for a non-JSON Content-Type, 400 for text that is not JSON, naming the body', () => {
    expect(failure(() => jsonBody(event('x: 1', 'text/plain'), resolveRequestSchema, false, 'r'))).toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      status: 415,
    });
    expect(failure(() => jsonBody(event(undefined, 'application/json'), resolveRequestSchema, false, 'r'))).toMatchObject({
      code: 'INVALID_REQUEST',
      message: 'request body is not valid JSON',
    });
    expect(failure(() => jsonBody(event('{"a":', 'application/json'), resolveRequestSchema, false, 'r')).details).toEqual([
      { path: 'body', message: 'request body is not valid JSON' },
    ]);
  });
  it('drops a leading UTF-8 byte order mark, as text and as base64', () => {
    const text = `\uFEFF${JSON.stringify(launch)}`;
    expect(jsonBody(event(text, 'application/json'), resolveRequestSchema, false, 'r')).toEqual(launch);
    expect(jsonBody(event(Buffer.from(text).toString('base64'), 'application/json', true), resolveRequestSchema, false, 'r')).toEqual(launch);
    expect(bodyText(event('\uFEFFx: 1'))).toBe('x: 1');
  });
  it('refuses __proto__ and constructor.prototype keys anywhere', () => {
    for (const text of ['{"__proto__":{"x":1}}', '{"a":{"constructor":{"prototype":{"x":1}}}}']) {
      expect(failure(() => jsonBody(event(text, 'application/json'), resolveRequestSchema, false, 'r')).message).toMatch(/forbidden key/);
    }
  });
  it('an optional body may be empty (then `{}`), whatever the Content-Type', () => {
    expect(jsonBody(event(undefined), driftCheckRequestSchema, true, 'drift request')).toEqual({});
    expect(jsonBody(event('  ', 'text/plain'), driftCheckRequestSchema, true, 'drift request')).toEqual({});
    expect(failure(() => jsonBody(event('{"repair":"yes"}', 'application/json'), driftCheckRequestSchema, true, 'drift request')).details).toEqual([
      { path: 'repair', message: 'must be true or false' },
    ]);
  });
  it('each schema problem is a detail naming its field', () => {
    const e = failure(() => jsonBody(event('{"workload_type":"batch","project":"p"}', 'application/json'), resolveRequestSchema, false, 'resolve request'));
    expect(e.message).toBe('invalid resolve request: workload_type: must be one of job, service, workspace');
    expect(e.details).toEqual([
      { path: 'workload_type', message: 'must be one of job, service, workspace' },
      { path: 'user', message: 'user is required' },
    ]);
  });
});

describe('bodyText', () => {
  it('413 above the limit (counted in UTF-8 bytes), base64 decoded as UTF-8 or 400', () => {
    expect(failure(() => bodyText(event('é'.repeat(MAX_BODY_BYTES / 2 + 1))))).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', status: 413 });
    expect(bodyText(event('é'.repeat(MAX_BODY_BYTES / 2)))).toHaveLength(MAX_BODY_BYTES / 2);
    expect(bodyText(event(Buffer.from('héllo').toString('base64'), 'application/json', true))).toBe('héllo');
    expect(failure(() => bodyText(event(Buffer.from([0xff, 0xfe]).toString('base64'), 'application/json', true)))).toMatchObject({ code: 'INVALID_REQUEST' });
  });
});

describe('jsonReply', () => {
  it('answers small replies at once and long ones (an array of more than 256, at the top or up to two levels down) in slices, with the same text', async () => {
    const small = jsonReply(200, { value: 'sa', rule_index: 0 }, { etag: '"1"' });
    expect(jsonReply(200, { a: { b: { c: Array(300).fill(1) } } })).not.toBeInstanceOf(Promise); // three levels down: at once
    expect(small).not.toBeInstanceOf(Promise);
    expect(small).toMatchObject({
      statusCode: 200,
      body: '{"value":"sa","rule_index":0}',
      headers: { etag: '"1"', 'content-type': 'application/json; charset=utf-8' },
    });
    const warnings = Array.from({ length: 2000 }, (_, i) => ({ code: 'SHADOWED_RULE', rule_index: i, message: `rule ${i} \u00fc "q"` }));
    for (const body of [{ version: 3, warnings }, warnings, { dataplane_iam_mapping: { rules: warnings } }]) {
      const large = jsonReply(201, body, { etag: '"2"' });
      expect(large).toBeInstanceOf(Promise);
      expect(await large).toEqual({
        statusCode: 201,
        headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', etag: '"2"' },
        body: JSON.stringify(body),
      });
    }
  });
});
