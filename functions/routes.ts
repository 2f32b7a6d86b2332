/**
 * The HTTP API's routes and the function serving each — the table the local server dispatches
 * on. serverless.yml declares the same routes for API Gateway (a test keeps the two equal).
 */
export type FunctionName = 'healthz' | 'config' | 'resolve' | 'provisioningStatus' | 'openapi' | 'drift';

export interface RouteSpec {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  path: string;
  fn: FunctionName;
  /** Behind the JWT authorizer (every route but healthz). */
  auth: boolean;
}

export const ROUTES: readonly RouteSpec[] = [
  { method: 'GET', path: '/v1/healthz', fn: 'healthz', auth: false },
  { method: 'GET', path: '/v1/openapi.json', fn: 'openapi', auth: false },
  { method: 'PUT', path: '/v1/clouds/{cloud}/iam-mapping', fn: 'config', auth: true },
  { method: 'GET', path: '/v1/clouds/{cloud}/iam-mapping', fn: 'config', auth: true },
  { method: 'GET', path: '/v1/clouds/{cloud}/iam-mapping/versions', fn: 'config', auth: true },
  { method: 'POST', path: '/v1/clouds/{cloud}/iam-mapping/resolve', fn: 'resolve', auth: true },
  { method: 'GET', path: '/v1/clouds/{cloud}/iam-mapping/provisioning', fn: 'provisioningStatus', auth: true },
  { method: 'POST', path: '/v1/clouds/{cloud}/drift-checks', fn: 'drift', auth: true },
  { method: 'GET', path: '/v1/clouds/{cloud}/drift-checks', fn: 'drift', auth: true },
  { method: 'GET', path: '/v1/clouds/{cloud}/drift-checks/latest', fn: 'drift', auth: true },
];

export interface RouteMatch {
  route: RouteSpec;
  pathParameters: Record<string, string>;
}

const compiled = ROUTES.map((route) => ({
  route,
  names: [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string),
  regex: new RegExp(`^${route.path.replace(/\{\w+\}/g, '([^/]+)')}/?$`),
}));

/** The route for a method and path; `allowed` lists the methods the path supports when none matches. */
export function matchRoute(method: string, path: string): { match?: RouteMatch; allowed: string[] } {
  const allowed: string[] = [];
  for (const { route, names, regex } of compiled) {
    const m = regex.exec(path);
    if (!m) continue;
    if (route.method !== method) {
      allowed.push(route.method);
      continue;
    }
    const pathParameters: Record<string, string> = {};
    names.forEach((name, i) => (pathParameters[name] = m[i + 1] as string));
    return { match: { route, pathParameters }, allowed };
  }
  return { allowed };
}
