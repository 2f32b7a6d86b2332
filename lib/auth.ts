/**
 * Who may do what (CONTRACT §2): `owner` everything, `control-plane` resolve + reads, `viewer`
 * reads only — and only on the clouds the token names (its cloud scope). Tokens are verified
 * before this (API Gateway's JWT authorizer when deployed, the local server under `npm start`);
 * this maps verified claims to a principal, its permissions and its scope, and holds the time
 * rules both verifiers apply (iat not in the future, bounded lifetime, nbf).
 */
export const ROLES = ['owner', 'control-plane', 'viewer'] as const;
export type Role = (typeof ROLES)[number];
export type Permission = 'read' | 'resolve' | 'write' | 'drift:run';

const GRANTS: Record<Role, ReadonlySet<Permission>> = {
  owner: new Set<Permission>(['read', 'resolve', 'write', 'drift:run']),
  'control-plane': new Set<Permission>(['read', 'resolve']),
  viewer: new Set<Permission>(['read']),
};

/** The scope that names every cloud. */
export const ALL_CLOUDS = '*';

export interface Principal {
  subject: string;
  roles: Role[];
  /** Cloud ids the token may touch; `['*']` = every cloud; `[]` = none (the token has no cloud scope). */
  clouds: string[];
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/**
 * Strings from a claim value: a string, a list, a space- or comma-separated string, or API
 * Gateway's flattening of a list claim (`"[owner viewer]"`).
 */
function claimList(claim: unknown): string[] {
  let parts: unknown[];
  if (Array.isArray(claim)) parts = claim;
  else if (typeof claim === 'string') parts = claim.replace(/^\[(.*)\]$/, '$1').split(/[\s,]+/);
  else return [];
  return [...new Set(parts.filter((p): p is string => typeof p === 'string' && p !== ''))];
}

/** Roles from a claim value (see claimList). Unknown role names are ignored. */
export function rolesFromClaim(claim: unknown): Role[] {
  return claimList(claim).filter(isRole);
}

/** Cloud ids from a claim value (see claimList); `*` stands for every cloud. */
export function cloudsFromClaim(claim: unknown): string[] {
  return claimList(claim);
}

export function principalFromClaims(claims: Record<string, unknown> | undefined, roleClaim = 'role', cloudsClaim = 'clouds'): Principal | null {
  if (!claims) return null;
  const roles = rolesFromClaim(claims[roleClaim]);
  const subject = typeof claims.email === 'string' ? claims.email : typeof claims.sub === 'string' ? claims.sub : 'unknown';
  return { subject, roles, clouds: cloudsFromClaim(claims[cloudsClaim]) };
}

export function can(principal: Principal, permission: Permission): boolean {
  return principal.roles.some((r) => GRANTS[r].has(permission));
}

/** Whether the principal's cloud scope includes `cloudId`. */
export function inScope(principal: Pick<Principal, 'clouds'>, cloudId: string): boolean {
  return principal.clouds.includes(ALL_CLOUDS) || principal.clouds.includes(cloudId);
}

// ------------------------------------------------------------------ token time rules

/** Clock skew tolerated for `iat` and `nbf`, seconds. */
export const CLOCK_SKEW_SECONDS = 60;
/** Longest accepted token lifetime (`exp − iat`), seconds. */
export const MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600;
/** Longest accepted Authorization header value, bytes: longer → 431. */
export const MAX_AUTHORIZATION_BYTES = 8 * 1024;

// Module-level, not per call: tokenTimeProblem runs on every authenticated request.
const NO_OPTIONS = {};
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Why a token's times are not acceptable at `nowSeconds`, or null: `exp` not past, `iat` not in
 * the future (beyond the skew), a lifetime `exp − iat` of at most 24 h, `nbf` (when present)
 * reached. `required` (the local verifier) also demands `exp` and `iat`; deployed, API Gateway's
 * JWT authorizer has checked signature, exp and nbf already, and the handlers' middleware applies
 * the same rules to what the token carries — without `iat` the lifetime counts from now — so both
 * paths refuse a token from the future or one that lives for 100 years.
 */
export function tokenTimeProblem(claims: Record<string, unknown>, options: { nowSeconds?: number; required?: boolean } = NO_OPTIONS): string | null {
  const now = options.nowSeconds ?? Date.now() / 1000;
  const { exp, iat, nbf } = claims;
  if (exp !== undefined && !isTime(exp)) return 'the token has an invalid expiry (exp)';
  if (iat !== undefined && !isTime(iat)) return 'the token has an invalid issue time (iat)';
  if (nbf !== undefined && !isTime(nbf)) return 'the token has an invalid not-before time (nbf)';
  if (options.required && exp === undefined) return 'the token has no expiry (exp)';
  if (options.required && iat === undefined) return 'the token has no issue time (iat)';
  if (isTime(exp) && exp <= now) return 'the token has expired';
  if (isTime(iat) && iat > now + CLOCK_SKEW_SECONDS) return 'the token was issued in the future (iat)';
  if (isTime(exp) && exp - (isTime(iat) ? iat : now) > MAX_TOKEN_LIFETIME_SECONDS) {
    return `the token lives longer than ${MAX_TOKEN_LIFETIME_SECONDS / 3600} hours (exp − iat)`;
  }
  if (isTime(nbf) && nbf > now + CLOCK_SKEW_SECONDS) return 'the token is not valid yet (nbf)';
  return null;
}
