/**
 * POST /v1/clouds/{cloud}/iam-mapping/resolve — the hot path: which identity a launch gets.
 * Body `{workload_type, project, user, cluster_id?}`; `?explain=true` adds the rule trace.
 */
import { flag } from './http.js';
import { httpFunction, type Operations } from './http/handler.js';
import { lambdaApp } from './lambda-app.js';

export const resolveOperations: Operations<'resolve'> = {
  resolve: ({ path, query, body }, app) => app.resolution.resolve(path.cloud, body, { explain: flag(query.explain) }),
};

export const handler = httpFunction('resolve', resolveOperations, lambdaApp());
