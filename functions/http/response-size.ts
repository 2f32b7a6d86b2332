/**
 * What a function behind API Gateway can answer. Lambda's invoke response — the proxy result as
 * JSON, the body a JSON string inside it — is at most 6 MB (6,291,456 bytes, the synchronous
 * payload quota); over it Lambda fails the invocation (`Function.ResponseSizeTooLarge`) and API
 * Gateway answers a 5xx with its own body. A plan of 5,000 identities is ~8 MB of JSON, the run
 * status of as many ~5 MB.
 *
 * So a reply of COMPRESS_FROM bytes or more leaves gzip-compressed when the request accepts gzip
 * (`Accept-Encoding`, negotiated with `negotiator`: q-values, `*`, `gzip;q=0`; the CLI, browsers and
 * every fetch send it; curl with `--compressed`): base64 with `Content-Encoding: gzip`, which API
 * Gateway and the local server turn back into bytes. A reply that would still not fit — the
 * request does not accept gzip, or compressed it is still over the limit — is a 406
 * NOT_ACCEPTABLE naming its size and what to send, never a 5xx. Small replies (every resolve)
 * pass untouched at the cost of one length check.
 */
import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import Negotiator from 'negotiator';
import { AppError } from '../../lib/errors.js';
import type { HttpResult } from '../http.js';

/** Lambda's synchronous invoke response quota, in bytes. */
export const LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024;
/** Bytes of body from which a reply is compressed when the client accepts gzip. */
export const COMPRESS_FROM = 1024 * 1024;
/** The invoke response's envelope around the body: status, headers, JSON punctuation. */
const ENVELOPE = 16 * 1024;

const gzipAsync = promisify(gzip);

/** Does `Accept-Encoding` accept gzip (an absent header does not ask for any encoding)? */
export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (acceptEncoding === undefined || acceptEncoding === '') return false;
  return new Negotiator({ headers: { 'accept-encoding': acceptEncoding } }).encoding(['gzip']) === 'gzip';
}

/** MB as AWS counts them (Lambda's "6 MB" is 6 × 2^20 bytes). */
const megabytes = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1).replace(/\.0$/, '')} MB`;

function tooLarge(bytes: number, limit: number, compressed: boolean): AppError {
  const message = compressed
    ? `the answer is ${megabytes(bytes)} even gzip-compressed, more than the ${megabytes(limit)} a function can return; ask for less`
    : `the answer is ${megabytes(bytes)}, more than the ${megabytes(limit)} a function can return uncompressed; ask for it gzip-compressed (Accept-Encoding: gzip; curl --compressed), as the iam-mapping CLI and the console do`;
  return new AppError('NOT_ACCEPTABLE', message, [
    { path: 'headers.accept-encoding', message: compressed ? 'the answer does not fit even compressed' : 'must accept gzip for an answer this large', bytes },
  ]);
}

/**
 * `result` as it can leave a function: as is, gzip-compressed, or a 406 (thrown) when it cannot
 * fit. `acceptEncoding` is read only for a large reply; a small one comes back as is, synchronously.
 */
export function fitResponse(result: HttpResult, acceptEncoding: () => string | undefined, limit = LAMBDA_RESPONSE_LIMIT): HttpResult | Promise<HttpResult> {
  const body = result.body;
  // A UTF-16 code unit is at most 3 UTF-8 bytes: short bodies need no byte count.
  if (typeof body !== 'string' || result.isBase64Encoded || body.length * 3 < Math.min(COMPRESS_FROM, limit / 6)) return result;
  return fitLarge(result, body, acceptEncoding(), limit);
}

async function fitLarge(result: HttpResult, body: string, acceptEncoding: string | undefined, limit: number): Promise<HttpResult> {
  const bytes = Buffer.byteLength(body);
  const vary = result.headers?.vary;
  const headers = { ...result.headers, vary: typeof vary === 'string' && vary !== '' ? `${vary}, accept-encoding` : 'accept-encoding' };
  if (bytes >= COMPRESS_FROM && acceptsGzip(acceptEncoding)) {
    const zipped = await gzipAsync(body);
    const encoded = Math.ceil(zipped.length / 3) * 4;
    if (encoded + ENVELOPE > limit) throw tooLarge(encoded, limit, true);
    return { ...result, headers: { ...headers, 'content-encoding': 'gzip' }, body: zipped.toString('base64'), isBase64Encoded: true };
  }
  // Uncompressed, the body travels as a JSON string: escaping (quotes, newlines) lengthens it, at most 6× (`\u001f`).
  const payload = bytes * 6 + ENVELOPE <= limit ? bytes : Buffer.byteLength(JSON.stringify(body));
  if (payload + ENVELOPE > limit) throw tooLarge(bytes, limit, false);
  return { ...result, headers };
}
