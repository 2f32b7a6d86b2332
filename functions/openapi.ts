/**
 * GET /v1/openapi.json — the OpenAPI 3.1 document of this API (no auth), generated from the zod
 * schemas in lib/openapi.ts for exactly the routes of the routing table.
 */
import { buildOpenApiDocument } from '../lib/openapi.js';
import type { HttpResult } from './http.js';
import { ROUTES } from './routes.js';

let body: string | undefined;

export function openApiBody(): string {
  return (body ??= JSON.stringify(buildOpenApiDocument(ROUTES)));
}

export const handler = async (): Promise<HttpResult> => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'public, max-age=300' },
  body: openApiBody(),
});
