/**
 * Who may do what (CONTRACT §2): `owner` everything, `control-plane` resolve + reads, `viewer`
 * reads only. Tokens are verified before this (API Gateway's JWT authorizer when deployed, the
 * local server under `npm start`); this maps verified claims to a principal and its permissions.
 */
export const ROLES = ['owner', 'control-plane', 'viewer'] as const;
export type Role = (typeof ROLES)[number];
export type Permission = 'read' | 'resolve' | 'write' | 'drift:run';

const GRANTS: Record<Role, ReadonlySet<Permission>> = {
  owner: new Set<Permission>(['read', 'resolve', 'write', 'drift:run']),
  'control-plane': new Set<Permission>(['read', 'resolve']),
  viewer: new Set<Permission>(['read']),
};

export interface Principal {
  subject: string;
  roles: Role[];
  /** The clouds the token may touch (`['*']`: all); undefined: not limited. */
  clouds?: string[];
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/**
 * Roles from a claim value: a string, a list, a space-separated string, or API Gateway's
 * flattening of a list claim (`"[owner viewer]"`). Unknown role names are ignored.
 */
export function rolesFromClaim(claim: unknown): Role[] {
  let parts: unknown[];
  if (Array.isArray(claim)) parts = claim;
  else if (typeof claim === 'string') parts = claim.replace(/^\[(.*)\]$/, '$1').split(/[\s,]+/);
  else return [];
  return [...new Set(parts.filter((p): p is string => typeof p === 'string').filter(isRole))];
}

export function principalFromClaims(claims: Record<string, unknown> | undefined, roleClaim = 'role'): Principal | null {
  if (!claims) return null;
  const roles = rolesFromClaim(claims[roleClaim]);
  const subject = typeof claims.email === 'string' ? claims.email : typeof claims.sub === 'string' ? claims.sub : 'unknown';
  return { subject, roles };
}

export function can(principal: Principal, permission: Permission): boolean {
  return principal.roles.some((r) => GRANTS[r].has(permission));
}

/** Whether the principal may touch this cloud. */
export function inScope(principal: Principal, cloudId: string): boolean {
  return principal.clouds === undefined || principal.clouds.includes('*') || principal.clouds.includes(cloudId);
}
