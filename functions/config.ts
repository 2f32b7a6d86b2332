/**
 * Mapping configs: PUT (owner) stores a new immutable version and starts its provisioning; GET
 * returns the current (or a given) version as JSON or YAML; GET .../versions lists the history
 * (the audit trail).
 */
import { forgetBinding, listBindings, listClouds } from '../app/use-cases/clouds.js';
import { getConfig, listVersions, putConfig } from '../app/use-cases/config.js';
import { inScope } from '../lib/auth.js';
import { renderYamlSliced } from '../lib/config/render.js';
import { CONFIRM_STACK_CHANGE_HEADER, stackChangeConfirmed } from '../lib/config/stack-change.js';
import { wantsYaml } from './http.js';
import { httpFunction, type Operations } from './http/handler.js';
import { reply } from './http/route.js';
import { gcpDefaultsFromEnv } from './gcp-env.js';
import { lambdaApp } from './lambda-app.js';
import { logger } from './observability.js';
import { stepFunctionsFromEnv } from './sfn.js';

const quoted = (etag: string) => `"${etag}"`;

const matches = (ifNoneMatch: string, etag: string) => ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '').replace(/"/g, '') === etag);

export const configOperations: Operations<'config'> = {
  listClouds: ({ principal }, app) => listClouds(app, principal, inScope),

  putConfig: async ({ path, query, header, body, principal, ifMatch }, app) => {
    const confirmStackChange = stackChangeConfirmed(query, header(CONFIRM_STACK_CHANGE_HEADER));
    const { response, started } = await putConfig(app, { cloudId: path.cloud, body, principal, confirmStackChange, ...(ifMatch ? { ifMatch } : {}) });
    if (started && 'error' in started)
      logger.error('provisioning workflow could not be started', { cloudId: path.cloud, version: response.version, error: started.error });
    return reply(200, response, { etag: quoted(response.etag) });
  },

  getConfig: async ({ path, query, header }, app) => {
    const stored = await getConfig(app, path.cloud, query.version ? Number(query.version) : undefined);
    // JSON or YAML by Accept: a cache keys the answer by it.
    const headers = { etag: quoted(stored.etag), 'last-modified': new Date(stored.createdAt).toUTCString(), vary: 'accept' };
    const ifNoneMatch = header('if-none-match');
    if (ifNoneMatch !== undefined && matches(ifNoneMatch, stored.etag)) return reply(304, undefined, headers);
    const body = { ...stored.document, version: stored.version };
    if (wantsYaml(header('accept')))
      return { reply: true, status: 200, text: await renderYamlSliced(body), headers: { ...headers, 'content-type': 'application/yaml; charset=utf-8' } };
    return reply(200, body, headers);
  },

  listBindings: ({ path }, app) => listBindings(app, path.cloud),

  forgetBinding: async ({ path, principal }, app) => {
    await forgetBinding(app, path.cloud, path.cluster_id);
    logger.info('pinned cluster forgotten', { audit: true, cloudId: path.cloud, clusterId: path.cluster_id, subject: principal.subject });
    return undefined;
  },

  listVersions: ({ path, query }, app) =>
    listVersions(app, path.cloud, {
      limit: Math.min(query.limit ? Number(query.limit) : 100, 1000),
      ...(query.before ? { before: Number(query.before) } : {}),
    }),
};

export const handler = httpFunction(
  'config',
  configOperations,
  lambdaApp((env) => ({ workflow: () => stepFunctionsFromEnv(env), extraDefaults: gcpDefaultsFromEnv(env) })),
);
