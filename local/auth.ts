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

/** The 401 of the local server (deployed, API Gateway's JWT authorizer answers instead). */
export function unauthorized(): HttpResult {
  return json(401, { error: { code: 'UNAUTHORIZED', message: 'a valid bearer token is required', details: [] } }, { 'www-authenticate': 'Bearer' });
}

export type Verifier = (authorization: string | undefined) => Promise<JWTPayload | null>;

/**
 * Verifies `Authorization: Bearer …`; null when missing or invalid (→ 401). A value over 8 KiB
 * throws AppError HEADER_TOO_LARGE (→ 431). Verified tokens are cached while their times hold.
 */
export function createVerifier(secret: Uint8Array, maxCached = 1024): Verifier {
  const cache = new Map<string, JWTPayload>();
  return async (authorization) => {
    if (authorization !== undefined && Buffer.byteLength(authorization) > MAX_AUTHORIZATION_BYTES) {
      throw new AppError('HEADER_TOO_LARGE', `the Authorization header is longer than ${MAX_AUTHORIZATION_BYTES} bytes`, [
        { path: 'headers.authorization', message: `at most ${MAX_AUTHORIZATION_BYTES} bytes` },
      ]);
    }
    const m = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)\s*$/i.exec(authorization ?? '');
    if (!m) return null;
    const token = m[1] as string;
    const hit = cache.get(token);
    if (hit) {
      cache.delete(token);
      if (tokenTimeProblem(hit, { required: true }) === null) {
        cache.set(token, hit); // most recently used last: the first key is the one to evict
        return hit;
      }
    }
    try {
      const { payload } = await jwtVerify(token, secret, {
        issuer: LOCAL_ISSUER,
        audience: LOCAL_AUDIENCE,
        algorithms: ['HS256'],
        requiredClaims: ['exp', 'iat', 'sub'],
        clockTolerance: CLOCK_SKEW_SECONDS,
      });
      if (tokenTimeProblem(payload, { required: true }) !== null) return null;
      if (cache.size >= maxCached) cache.delete(cache.keys().next().value as string);
      cache.set(token, payload);
      return payload;
    } catch {
      return null;
    }
  };
}
