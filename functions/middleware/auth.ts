/**
 * Authorization: the token was verified upstream (API Gateway's JWT authorizer deployed, the
 * local server under `npm start`); here the verified claims become a principal and the route's
 * permission is enforced: no claims → 401, token times outside the rules (iat in the future,
 * lifetime over 24 h — API Gateway checks only signature, exp and nbf) → 401, an Authorization
 * value over 8 KiB → 431, role not allowed → 403, and on every `/v1/clouds/{cloud}/...` route a
 * cloud outside the token's scope (or a token without a cloud scope) → 403.
 */
import type { MiddlewareObj } from '@middy/core';
import { can, inScope, ROLES, MAX_AUTHORIZATION_BYTES, principalFromClaims, tokenTimeProblem, type Permission, type Principal } from '../../lib/auth.js';
import { AppError } from '../../lib/errors.js';
import { header, type HttpContext, type HttpEvent } from '../http.js';

const ROLE_CLAIM = process.env.ROLE_CLAIM ?? 'role';
const CLOUDS_CLAIM = process.env.CLOUDS_CLAIM ?? 'clouds';

/**
 * Principals by claims object. A claims object is never changed after verification; the local
 * verifier hands the same object again for a cached token, so its principal is derived once
 * (deployed, every event carries a new object and this is a miss). Time rules are checked on
 * every request.
 */
const principals = new WeakMap<Record<string, unknown>, Principal | null>();

function principalOfClaims(claims: Record<string, unknown> | undefined): Principal | null {
  if (!claims) return null;
  let principal = principals.get(claims);
  if (principal === undefined) {
    principal = principalFromClaims(claims, ROLE_CLAIM, CLOUDS_CLAIM);
    if (principal) {
      Object.freeze(principal.roles);
      Object.freeze(principal.clouds);
      Object.freeze(principal);
    }
    principals.set(claims, principal);
  }
  return principal;
}

export const authorize = (permission: Permission): MiddlewareObj<HttpEvent> => ({
  before: async (request) => authorizeRequest(request.event, request.context, permission),
});

/** The route's permission for this request: the principal on `context`, or the 401/403/431 thrown. */
export function authorizeRequest(event: HttpEvent, context: HttpContext, permission: Permission): void {
  const authorization = header(event, 'authorization');
  // A UTF-16 code unit is at most 3 UTF-8 bytes: a short value needs no byte count.
  if (authorization !== undefined && authorization.length * 3 > MAX_AUTHORIZATION_BYTES && Buffer.byteLength(authorization) > MAX_AUTHORIZATION_BYTES) {
    throw new AppError('HEADER_TOO_LARGE', `the Authorization header is longer than ${MAX_AUTHORIZATION_BYTES} bytes`, [
      { path: 'headers.authorization', message: `at most ${MAX_AUTHORIZATION_BYTES} bytes` },
    ]);
  }
  const claims = event.requestContext?.authorizer?.jwt?.claims;
  const principal = principalOfClaims(claims);
  if (!principal || !claims) throw new AppError('UNAUTHORIZED', 'a bearer token is required');
  const timeProblem = tokenTimeProblem(claims);
  if (timeProblem) throw new AppError('UNAUTHORIZED', `${timeProblem}; a valid bearer token is required`);
  if (!can(principal, permission)) {
    const roles = principal.roles.length ? principal.roles.join(', ') : roleProblem(claims[ROLE_CLAIM]);
    throw new AppError('FORBIDDEN', `${principal.subject} (${roles}) may not ${PERMISSION_TEXT[permission]}`);
  }
  const cloud = cloudParam(event);
  if (cloud !== undefined) {
    if (principal.clouds.length === 0) {
      throw new AppError(
        'FORBIDDEN',
        `the token of ${principal.subject} has no cloud scope (claim "${CLOUDS_CLAIM}"), so it may not touch cloud ${clip(cloud)}`,
        [{ path: 'cloud', message: `the token has no "${CLOUDS_CLAIM}" claim` }],
      );
    }
    if (!inScope(principal, cloud)) {
      throw new AppError(
        'FORBIDDEN',
        `cloud ${clip(cloud)} is outside the cloud scope of the token of ${principal.subject} (${principal.clouds.map(clip).join(', ')})`,
        [{ path: 'cloud', message: "not in the token's cloud scope" }],
      );
    }
  }
  context.principal = principal;
}

/** The `{cloud}` path parameter as the handlers read it (percent-decoded); undefined on routes without one. */
function cloudParam(event: HttpEvent): string | undefined {
  const raw = event.pathParameters?.cloud;
  if (raw === undefined) return undefined;
  if (!raw.includes('%')) return raw; // nothing to decode
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw; // malformed escapes never equal a cloud id in scope; the handler answers 400 for them
  }
}

/** Why a token has no known role (the 403's words): no role claim, or one naming roles this service does not know. */
function roleProblem(claim: unknown): string {
  if (claim === undefined || claim === null || claim === '') return `no "${ROLE_CLAIM}" claim`;
  return `role ${clip(JSON.stringify(claim) ?? typeof claim)} is unknown; the roles are ${ROLES.join(', ')}`;
}

const clip = (s: string) => (s.length > 80 ? `${s.slice(0, 80)}…` : s);

const PERMISSION_TEXT: Record<Permission, string> = {
  read: 'read this cloud',
  resolve: 'resolve identities',
  write: 'change the mapping config',
  'drift:run': 'run drift checks',
};

export function principalOf(context: HttpContext): Principal {
  if (!context.principal) throw new AppError('UNAUTHORIZED', 'a bearer token is required');
  return context.principal;
}
