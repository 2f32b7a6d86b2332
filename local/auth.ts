/**
 * Local bearer tokens: HS256 JWTs signed with a secret kept under DATA_DIR, so a token minted by
 * `npm run dev-token` is accepted by a server started with the same DATA_DIR, also after a
 * restart. The local server verifies them the way API Gateway's JWT authorizer does deployed
 * (signature, issuer, audience, expiry, not-before; `alg: none` and other algorithms refused),
 * plus the time rules of lib/auth.ts (`iat` required and not in the future, lifetime ≤ 24 h), and
 * hands the claims to the handlers in the same place (`requestContext.authorizer.jwt.claims`).
 * An Authorization value over 8 KiB is refused with 431 before any parsing.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, jwtVerify, type JWTPayload } from 'jose';
import { ALL_CLOUDS, CLOCK_SKEW_SECONDS, MAX_AUTHORIZATION_BYTES, tokenTimeProblem, type Role } from '../lib/auth.js';
import { AppError } from '../lib/errors.js';
import { json, type HttpResult } from '../functions/http.js';

export const LOCAL_ISSUER = 'https://iam-mapping.local/';
export const LOCAL_AUDIENCE = 'iam-mapping';

export function loadOrCreateSecret(dataDir: string): Uint8Array {
  const file = join(dataDir, 'dev-jwt-secret');
  try {
    return Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
  } catch {
    mkdirSync(dataDir, { recursive: true });
    const secret = randomBytes(32).toString('hex');
    try {
      writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    } catch {
      // another process created it first: use theirs
    }
    return Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
  }
}

export interface MintOptions {
  /** Lifetime in seconds (default 12 h; the verifiers refuse more than 24 h). */
  ttlSeconds?: number;
  /** The token's cloud scope (claim `clouds`): cloud ids, or `['*']` (default) for every cloud. */
  clouds?: string[];
}

/** A dev token: `role`, `email`, `clouds`, `sub`, `iss`, `aud`, `iat`, `exp`. A number is the TTL (older callers). */
export async function mintToken(secret: Uint8Array, role: Role, subject: string, options: number | MintOptions = {}): Promise<string> {
  const o = typeof options === 'number' ? { ttlSeconds: options } : options;
  return new SignJWT({ role, email: subject, clouds: o.clouds ?? [ALL_CLOUDS] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(subject)
    .setIssuer(LOCAL_ISSUER)
    .setAudience(LOCAL_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${o.ttlSeconds ?? 12 * 3600}s`)
    .sign(secret);
}

/** The 401 of the local server (deployed, API Gateway's JWT authorizer answers instead); `reason` says why the token was refused. */
export function unauthorized(reason?: string): HttpResult {
  return json(
    401,
    { error: { code: 'UNAUTHORIZED', message: 'a valid bearer token is required', details: reason ? [{ path: 'Authorization', message: reason }] : [] } },
    { 'www-authenticate': 'Bearer' },
  );
}

export type Verifier = (authorization: string | undefined) => Promise<JWTPayload | null>;

/** A verified token's claims, or why it was refused (in words an operator can act on). */
export type Verification = { payload: JWTPayload; reason?: undefined } | { payload: null; reason: string };
/** A cached verification is answered synchronously (the hot path awaits only a verification it has to wait for). */
export type CheckingVerifier = (authorization: string | undefined) => Verification | Promise<Verification>;

/**
 * Verifies `Authorization: Bearer …`; null when missing or invalid (→ 401). A value over 8 KiB
 * throws AppError HEADER_TOO_LARGE (→ 431). Verified tokens are kept while their times hold (least
 * recently used evicted past `maxCached`).
 */
export function createVerifier(secret: Uint8Array, maxCached = 1024): Verifier {
  const check = createCheckingVerifier(secret, maxCached);
  return async (authorization) => (await check(authorization)).payload;
}

const REQUIRED = { required: true };
const TOKEN_HINT = 'mint one with `npm run dev-token -- ROLE` using the same DATA_DIR as this server';

/** As createVerifier, but says why a token was refused: missing, malformed, bad signature, expired, not yet valid, wrong issuer/audience. */
export function createCheckingVerifier(secret: Uint8Array, maxCached = 1024): CheckingVerifier {
  // Keyed by the whole Authorization value: a hit needs neither the format check nor the signature.
  type Verified = Verification & { payload: JWTPayload };
  const cache = new Map<string, Verified>();
  const check = async (authorization: string | undefined): Promise<Verification> => {
    // A UTF-16 code unit is at most 3 UTF-8 bytes: a short value needs no byte count.
    if (authorization !== undefined && authorization.length * 3 > MAX_AUTHORIZATION_BYTES && Buffer.byteLength(authorization) > MAX_AUTHORIZATION_BYTES) {
      throw new AppError('HEADER_TOO_LARGE', `the Authorization header is longer than ${MAX_AUTHORIZATION_BYTES} bytes`, [
        { path: 'headers.authorization', message: `at most ${MAX_AUTHORIZATION_BYTES} bytes` },
      ]);
    }
    if (authorization === undefined || authorization.trim() === '')
      return { payload: null, reason: `no Authorization header; send Authorization: Bearer <token> (${TOKEN_HINT})` };
    const m = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)\s*$/i.exec(authorization);
    if (!m) {
      return {
        payload: null,
        reason: /^Bearer\s/i.test(authorization)
          ? 'malformed token: not a JWT (three base64url parts separated by dots); copy the whole output of dev-token'
          : 'malformed Authorization header: expected "Bearer <token>"',
      };
    }
    const token = m[1] as string;
    try {
      const { payload } = await jwtVerify(token, secret, {
        issuer: LOCAL_ISSUER,
        audience: LOCAL_AUDIENCE,
        algorithms: ['HS256'],
        requiredClaims: ['exp', 'iat', 'sub'],
        clockTolerance: CLOCK_SKEW_SECONDS,
      });
      const problem = tokenTimeProblem(payload, REQUIRED);
      if (problem !== null) return { payload: null, reason: `${problem} (${TOKEN_HINT})` };
      if (cache.size >= maxCached) cache.delete(cache.keys().next().value as string);
      const verified = Object.freeze({ payload });
      cache.set(authorization, verified);
      return verified;
    } catch (e) {
      return { payload: null, reason: refusal(e, token) };
    }
  };
  // The last value answered from the cache: a client sends the same token request after request,
  // and comparing it costs less than hashing a fresh ~350-character header string for the Map.
  let lastValue: string | undefined;
  let lastHit: Verified | undefined;
  return (authorization) => {
    const hit = authorization === undefined ? undefined : authorization === lastValue ? lastHit : cache.get(authorization);
    if (hit === undefined) return check(authorization);
    if (tokenTimeProblem(hit.payload, REQUIRED) !== null) {
      cache.delete(authorization!);
      lastValue = lastHit = undefined;
      return check(authorization); // expired since: verified again, refused with the reason
    }
    if (hit === lastHit) return hit; // no LRU move: should the Map evict it, lastHit still holds it
    lastValue = authorization;
    lastHit = hit;
    // Most recently used last (the first key is the one evicted), once the cache is half full:
    // below that nothing is evicted, and a re-insert per request churns the Map's table.
    if (cache.size > maxCached >>> 1) {
      cache.delete(authorization!);
      cache.set(authorization!, hit);
    }
    return hit;
  };
}

function refusal(e: unknown, token: string): string {
  const err = e as { code?: string; claim?: string; reason?: string; message?: string };
  const claims = readClaims(token);
  const at = (n: unknown) => (typeof n === 'number' ? new Date(n * 1000).toISOString() : 'an unknown time');
  switch (err.code) {
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return `bad signature: the token was signed with another secret — minted for another DATA_DIR or another server; ${TOKEN_HINT}`;
    case 'ERR_JWT_EXPIRED':
      return `expired at ${at(claims?.exp)} (local tokens last 12 hours); ${TOKEN_HINT}`;
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'signed with an algorithm this server does not accept (only HS256)';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (err.reason === 'missing') return `the token has no ${err.claim ?? '?'} claim; ${TOKEN_HINT}`;
      if (err.claim === 'nbf' || err.claim === 'iat')
        return `not yet valid: valid from ${at(err.claim === 'nbf' ? claims?.nbf : claims?.iat)} (is this machine's clock behind?)`;
      if (err.claim === 'iss') return `wrong issuer ${JSON.stringify(claims?.iss)}: this server accepts tokens issued by ${LOCAL_ISSUER}; ${TOKEN_HINT}`;
      if (err.claim === 'aud') return `wrong audience ${JSON.stringify(claims?.aud)}: this server accepts audience ${LOCAL_AUDIENCE}; ${TOKEN_HINT}`;
      return `claim ${err.claim ?? '?'} is missing or invalid: ${err.message ?? ''}`.trim();
    default:
      return `malformed token (${err.code ?? 'unreadable'}); ${TOKEN_HINT}`;
  }
}

function readClaims(token: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
