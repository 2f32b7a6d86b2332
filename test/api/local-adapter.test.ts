/** The local stand-in for API Gateway and Lambda (local/http-adapter.ts): what the handlers receive under `npm start`. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { authorizationCount, createRequestQueue, lambdaContext, requestTime, send } from '../../local/http-adapter.js';

describe('requestTime', () => {
  it("writes API Gateway's requestContext.time format, in UTC", () => {
    expect(requestTime(Date.UTC(2026, 10, 24, 12, 0, 0, 999))).toBe('24/Nov/2026:12:00:00 +0000');
    expect(requestTime(Date.UTC(2027, 0, 5, 3, 4, 5))).toBe('05/Jan/2027:03:04:05 +0000');
    // Same second: the same text; the next second: a new one.
    expect(requestTime(Date.UTC(2027, 0, 5, 3, 4, 5, 500))).toBe('05/Jan/2027:03:04:05 +0000');
    expect(requestTime(Date.UTC(2027, 0, 5, 3, 4, 6))).toBe('05/Jan/2027:03:04:06 +0000');
  });
});

describe('authorizationCount', () => {
  it('counts every Authorization field as sent (Node keeps only the first in req.headers), whatever its case', () => {
    const req = (rawHeaders: string[]) => ({ rawHeaders }) as unknown as IncomingMessage;
    expect(authorizationCount(req(['Host', 'x', 'Accept', '*/*']))).toBe(0);
    expect(authorizationCount(req(['Authorization', 'Bearer a', 'Host', 'x']))).toBe(1);
    expect(authorizationCount(req(['authorization', 'Bearer a', 'AUTHORIZATION', 'Bearer b', 'Authorizatio', 'n']))).toBe(2);
  });
});

describe('lambdaContext', () => {
  it('carries the function and request, and counts the remaining time down from the timeout', () => {
    const context = lambdaContext('resolve', 'req-1', 1_000);
    expect(context).toMatchObject({
      functionName: 'resolve',
      awsRequestId: 'req-1',
      invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:resolve',
      logGroupName: '/aws/lambda/resolve',
      callbackWaitsForEmptyEventLoop: false,
    });
    // eslint-disable-next-line @typescript-eslint/unbound-method -- taken off the object, as middy's early timeout does
    const { getRemainingTimeInMillis } = context;
    const left = getRemainingTimeInMillis();
    expect(left).toBeGreaterThan(900);
    expect(left).toBeLessThanOrEqual(1_000);
    expect(lambdaContext('resolve', 'req-2', 0).getRemainingTimeInMillis()).toBe(0);
  });
});

describe('send', () => {
  it('writes a large text body in slices, byte for byte (a surrogate pair on a slice boundary stays whole)', async () => {
    // 256 Ki UTF-16 units per slice: put an emoji (a surrogate pair) across the first boundary, and non-ASCII text after it.
    const body = `${'a'.repeat(256 * 1024 - 1)}\u{1F600}${'ü€'.repeat(300_000)}{"end":true}`;
    const server = createServer((_req, res) => send(res, { statusCode: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(Number(res.headers.get('content-length'))).toBe(Buffer.byteLength(body));
      expect(bytes.equals(Buffer.from(body, 'utf8'))).toBe(true);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('sends empty and base64 bodies with their lengths', async () => {
    const results = [
      { statusCode: 200, headers: {}, body: '' },
      { statusCode: 200, headers: {}, body: Buffer.from([0, 1, 2, 255]).toString('base64'), isBase64Encoded: true },
    ];
    let i = 0;
    const server = createServer((_req, res) => send(res, results[i++]!));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const empty = await fetch(url);
      expect(empty.headers.get('content-length')).toBe('0');
      expect(await empty.text()).toBe('');
      const binary = await fetch(url);
      expect(binary.headers.get('content-length')).toBe('4');
      expect([...new Uint8Array(await binary.arrayBuffer())]).toEqual([0, 1, 2, 255]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('createRequestQueue', () => {
  /** Enough of a ServerResponse for send(): what was written, in order, across all fakes. */
  const fakes = (log: string[]) => (name: string) => {
    const res = {
      headersSent: false,
      destroyed: false,
      writeHead(status: number) {
        log.push(`${name} head ${status}`);
        res.headersSent = true;
        return res;
      },
      end(body?: string) {
        log.push(`${name} body ${body ?? ''}`);
        return res;
      },
    };
    return res as unknown as ServerResponse;
  };
  const reply = (body: string) => async () => ({ statusCode: 200, headers: {}, body });

  it('runs the requests of one turn after it, in the order they were given; a later turn starts a new batch', async () => {
    const log: string[] = [];
    const fake = fakes(log);
    const queue = createRequestQueue(() => log.push('error'));
    queue(fake('a'), reply('1'));
    queue(fake('b'), reply('2'));
    expect(log).toEqual([]); // nothing runs within the turn
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['a head 200', 'a body 1', 'b head 200', 'b body 2']);
    queue(fake('c'), reply('3'));
    await new Promise((r) => setImmediate(r));
    expect(log.slice(4)).toEqual(['c head 200', 'c body 3']);
  });

  it('hands a handler that throws to fail for its request, and still serves the rest of the batch', async () => {
    const log: string[] = [];
    const fake = fakes(log);
    const failed: Array<[ServerResponse, unknown]> = [];
    const queue = createRequestQueue((res, e) => failed.push([res, e]));
    const bad = fake('bad');
    queue(bad, () => {
      throw new TypeError('boom');
    });
    queue(fake('good'), reply('ok'));
    await new Promise((r) => setImmediate(r));
    expect(failed.map(([res, e]) => [res === bad, String(e)])).toEqual([[true, 'TypeError: boom']]);
    expect(log).toEqual(['good head 200', 'good body ok']);
  });

  it('serves requests over real sockets, several connections at once', async () => {
    const queue = createRequestQueue((res) => res.destroy());
    const server = createServer((_req, res) =>
      queue(res, async () => ({ statusCode: 201, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' })),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const answers = await Promise.all([fetch(url), fetch(url), fetch(url)]);
      for (const res of answers) {
        expect(res.status).toBe(201);
        expect(await res.json()).toEqual({ ok: true });
      }
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
