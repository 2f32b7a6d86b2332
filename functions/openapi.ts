/** GET /v1/openapi.json — the OpenAPI 3.1 document of this API (no auth), generated from the route table. */
import { httpFunction, type Operations } from './http/handler.js';
import { buildOpenApiDocument } from './http/openapi.js';
import { reply } from './http/route.js';
import { lambdaApp } from './lambda-app.js';

let document: ReturnType<typeof buildOpenApiDocument> | undefined;

export const openapiOperations: Operations<'openapi'> = {
  openApiDocument: async () => reply(200, (document ??= buildOpenApiDocument()) as never, { 'cache-control': 'public, max-age=300' }),
};

export const handler = httpFunction('openapi', openapiOperations, lambdaApp());
