/**
 * POST /v1/clouds/{cloud}/iam-mapping/resolve — the hot path: which identity a launch gets.
 * Body `{workload_type, project, user, cluster_id?}`; `?explain=true` adds the rule trace.
 */
import middy from '@middy/core';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import { issuesToDetails } from '../lib/config/issues.js';
import { resolveRequestSchema } from '../lib/resolution/request.js';
import { AppError } from '../lib/errors.js';
import { cloudOf } from './cloud.js';
import { lazyEnvDeps, type Deps } from './deps.js';
import { json, queryFlag, type HttpEvent, type HttpResult } from './http.js';
import { authorize } from './middleware/auth.js';
import { errorResponses } from './middleware/errors.js';

export function createResolveHandler(getDeps: () => Deps) {
  const resolve = async (event: HttpEvent): Promise<HttpResult> => {
    const cloudId = cloudOf(event);
    const body = (event as { body: unknown }).body;
    const parsed = resolveRequestSchema.safeParse(body);
    if (!parsed.success) {
      const details = issuesToDetails(parsed.error.issues, body).map(({ path, message }) => ({ path, message }));
      throw new AppError('INVALID_REQUEST', `invalid resolve request: ${details[0]?.path || 'body'}: ${details[0]?.message}`, details);
    }
    const answer = await getDeps().resolution.resolve(cloudId, parsed.data, { explain: queryFlag(event, 'explain') });
    return json(200, answer);
  };
  return middy(resolve)
    .use(errorResponses())
    .use(authorize('resolve'))
    .use(httpJsonBodyParser({ disableContentTypeError: false }));
}

export const handler = createResolveHandler(lazyEnvDeps());
