/**
 * Authorization: the token was verified upstream (API Gateway's JWT authorizer deployed, the
 * local server under `npm start`); here the verified claims become a principal and the route's
 * permission is enforced: no claims → 401, role not allowed → 403.
 */
import type { MiddlewareObj } from '@middy/core';
import { can, principalFromClaims, type Permission, type Principal } from '../../lib/auth.js';
import { AppError } from '../../lib/errors.js';
import type { HttpContext, HttpEvent } from '../http.js';

const ROLE_CLAIM = process.env.ROLE_CLAIM ?? 'role';

export const authorize = (permission: Permission): MiddlewareObj<HttpEvent> => ({
  before: async (request) => {
    const principal = principalFromClaims(request.event.requestContext?.authorizer?.jwt?.claims, ROLE_CLAIM);
    if (!principal) throw new AppError('UNAUTHORIZED', 'a bearer token is required');
    if (!can(principal, permission)) {
      const roles = principal.roles.length ? principal.roles.join(', ') : 'no role';
      throw new AppError('FORBIDDEN', `${principal.subject} (${roles}) may not ${PERMISSION_TEXT[permission]}`);
    }
    (request.context as HttpContext).principal = principal;
  },
});

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
