/**
 * functions/http/response-size.ts: what a function may return (Lambda's 6 MB invoke response). Large
 * replies leave gzip-compressed when the request accepts gzip; one that cannot fit is a 406 naming its
 * size and what to send; small replies pass untouched, synchronously, without reading the header.
 */
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { json, type HttpResult } from '../../functions/http.js';
import { acceptsGzip, COMPRESS_FROM, fitResponse, LAMBDA_RESPONSE_LIMIT } from '../../functions/http/response-size.js';
import { AppError } from '../../lib/errors.js';

const big = (units: number) => json(200, { data: 'x'.repeat(units) });
const fit = async (result: HttpResult, accept: string | undefined, limit?: number) => fitResponse(result, () => accept, limit);
const refusal = async (p: Promise<unknown>) => {
  const e = await p.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(e).toBeInstanceOf(AppError);
  return e as AppError;
};

describe('acceptsGzip', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['gzip', true],
    ['GZIP', true],
    ['gzip, deflate, br', true],
    ['deflate, gzip;q=0.5', true],
    ['*', true],
    ['gzip;q=0', false],
    ['*;q=0', false],
    ['br', false],
    ['identity', false],
  ])('%j → %s', (header, expected) => expect(acceptsGzip(header)).toBe(expected));
});

describe('fitResponse', () => {
  it('a small reply is returned as it is, synchronously, without reading Accept-Encoding', () => {
    const small = json(200, { value: 'sa-1', source: 'RULE', rule_index: 0, config_version: 1 });
    let read = 0;
    const out = fitResponse(small, () => {
      read++;
      return 'gzip';
    });
    expect(out).toBe(small);
    expect(read).toBe(0);
  });

  it('over COMPRESS_FROM and gzip accepted: base64 gzip with Content-Encoding and Vary; the bytes decode to the same text', async () => {
    const result = big(2 * COMPRESS_FROM);
    const out = await fit(result, 'gzip, deflate');
    expect(out.isBase64Encoded).toBe(true);
    expect(out.headers).toMatchObject({ 'content-encoding': 'gzip', vary: 'accept-encoding', 'content-type': 'application/json; charset=utf-8' });
    expect(gunzipSync(Buffer.from(out.body as string, 'base64')).toString('utf8')).toBe(result.body);
    expect((out.body as string).length).toBeLessThan(100_000);
    expect(out.statusCode).toBe(200);
  });

  it('large but within the limit, gzip not accepted: as it is (Vary set)', async () => {
    const result = big(2 * COMPRESS_FROM);
    const out = await fit(result, undefined);
    expect(out.body).toBe(result.body);
    expect(out.isBase64Encoded).toBeUndefined();
    expect(out.headers).toMatchObject({ vary: 'accept-encoding' });
    // A reply that already varies (GET …/iam-mapping: JSON or YAML by Accept) keeps it.
    const negotiated = await fit({ ...result, headers: { ...result.headers, vary: 'accept' } }, 'gzip');
    expect(negotiated.headers).toMatchObject({ vary: 'accept, accept-encoding', 'content-encoding': 'gzip' });
    expect(out.headers['content-encoding']).toBeUndefined();
  });

  it.each([undefined, 'identity', 'gzip;q=0', 'br'])('over the limit and gzip not accepted (%j): 406 naming the size and what to send', async (accept) => {
    const e = await refusal(fit(big(7 * 2 ** 20), accept));
    expect(e.status).toBe(406);
    expect(e.code).toBe('NOT_ACCEPTABLE');
    expect(e.message).toMatch(
      /the answer is 7 MB, more than the 6 MB a function can return uncompressed; ask for it gzip-compressed \(Accept-Encoding: gzip; curl --compressed\)/,
    );
    expect(e.details).toEqual([expect.objectContaining({ path: 'headers.accept-encoding', bytes: expect.any(Number) })]);
  });

  it('the JSON escaping of the body inside the invoke response counts: 4 MB of quotes do not fit uncompressed', async () => {
    const quotes: HttpResult = { statusCode: 200, headers: { 'content-type': 'text/plain' }, body: '"'.repeat(4 * 2 ** 20) };
    expect(Buffer.byteLength(quotes.body as string)).toBeLessThan(LAMBDA_RESPONSE_LIMIT);
    expect((await refusal(fit(quotes, undefined))).status).toBe(406);
    expect((await fit(quotes, 'gzip')).isBase64Encoded).toBe(true);
  });

  it('still over the limit compressed (incompressible text): 406 saying so', async () => {
    const noise = json(200, { data: randomBytes(3 * 2 ** 20).toString('base64') });
    const e = await refusal(fit(noise, 'gzip', 3 * 2 ** 20));
    expect(e.message).toMatch(/even gzip-compressed, more than the 3 MB a function can return/);
  });

  it('the limit is Lambda’s synchronous invoke response quota', () => {
    expect(LAMBDA_RESPONSE_LIMIT).toBe(6_291_456);
  });
});
