/**
 * Mapping configs: PUT (owner) stores a new immutable version; GET returns the current (or a
 * given) version as JSON or YAML; GET .../versions lists the history (the audit trail).
 */
import middy from '@middy/core';
import httpRouterHandler from '@middy/http-router';
import { stringify } from 'yaml';
import { parseConfigBody } from '../lib/config/parse.js';
import { validateConfig } from '../lib/config/validate.js';
import { checkStackChange, CONFIRM_STACK_CHANGE_HEADER, stackChangeConfirmed, type Stack } from '../lib/config/stack-change.js';
import { AppError } from '../lib/errors.js';
import type { VersionMeta } from '../lib/ports.js';
import { cloudOf } from './cloud.js';
import { lazyEnvDeps, type Deps } from './deps.js';
import { stepFunctionsFromEnv } from './sfn.js';
import { bodyText, header, json, wantsYaml, type HttpContext, type HttpEvent, type HttpResult } from './http.js';
import { authorize, principalOf } from './middleware/auth.js';
import { errorResponses } from './middleware/errors.js';
import { logger } from './observability.js';

const quoted = (etag: string) => `"${etag}"`;

export function createConfigHandler(getDeps: () => Deps) {
  const put = async (event: HttpEvent, context: HttpContext): Promise<HttpResult> => {
    const cloudId = cloudOf(event);
    const parsed = parseConfigBody(bodyText(event), header(event, 'content-type'));
    const result = validateConfig(parsed.document, { cloudId, locate: parsed.locate });
    if (!result.ok) {
      const first = result.errors[0]!;
      const more = result.errors.length > 1 ? ` (and ${result.errors.length - 1} more)` : '';
      throw new AppError('INVALID_CONFIG', `invalid mapping config: ${first.path ? `${first.path}: ` : ''}${first.message}${more}`, result.errors);
    }
    const { configs, resolution } = getDeps();
    const ifMatch = header(event, 'if-match');
    const previous = (await configs.getVersion(cloudId))?.document as Stack | undefined;
    const confirmed = stackChangeConfirmed(event.queryStringParameters, header(event, CONFIRM_STACK_CHANGE_HEADER));
    const stackChange = checkStackChange(cloudId, previous ?? null, result.config, confirmed);
    const meta = await configs.putVersion({
      cloudId,
      document: result.config as unknown as Record<string, unknown>,
      createdBy: principalOf(context).subject,
      ruleCount: result.config.dataplane_iam_mapping.rules.length,
      ...(ifMatch !== undefined ? { ifMatch } : {}),
    });
    resolution.invalidate(cloudId);
    const provisioning = await startProvisioning(getDeps(), cloudId, meta.version);
    const notes = parsed.notes.map((message) => ({ code: 'UNINDENTED_YAML', path: '', message }));
    return json(
      200,
      { cloud_deployment_id: cloudId, version: meta.version, etag: meta.etag, warnings: [...notes, ...(stackChange ? [stackChange] : []), ...result.warnings], provisioning },
      { etag: quoted(meta.etag) },
    );
  };

  const get = async (event: HttpEvent): Promise<HttpResult> => {
    const cloudId = cloudOf(event);
    const requested = versionParam(event.queryStringParameters?.version);
    const stored = await getDeps().configs.getVersion(cloudId, requested);
    if (!stored) {
      throw new AppError('NOT_FOUND', requested ? `cloud ${cloudId} has no config version ${requested}` : `cloud ${cloudId} has no IAM mapping config`);
    }
    const headers = { etag: quoted(stored.etag), 'last-modified': new Date(stored.createdAt).toUTCString() };
    const ifNoneMatch = header(event, 'if-none-match');
    if (ifNoneMatch !== undefined && ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '').replace(/"/g, '') === stored.etag)) {
      return { statusCode: 304, headers, body: '' };
    }
    const body = { ...stored.document, version: stored.version };
    if (wantsYaml(event)) {
      return { statusCode: 200, headers: { ...headers, 'content-type': 'application/yaml; charset=utf-8', 'cache-control': 'no-store' }, body: stringify(body) };
    }
    return json(200, body, headers);
  };

  const versions = async (event: HttpEvent): Promise<HttpResult> => {
    const cloudId = cloudOf(event);
    const limit = Math.min(versionParam(event.queryStringParameters?.limit) ?? 100, 1000);
    const before = versionParam(event.queryStringParameters?.before);
    const list = await getDeps().configs.listVersions(cloudId, { limit, ...(before ? { beforeVersion: before } : {}) });
    if (list.length === 0 && !before && !(await getDeps().configs.getLatestMeta(cloudId))) {
      throw new AppError('NOT_FOUND', `cloud ${cloudId} has no IAM mapping config`);
    }
    return json(200, { cloud_deployment_id: cloudId, versions: list.map(versionView) });
  };

  const route = (permission: 'read' | 'write', fn: (e: HttpEvent, c: HttpContext) => Promise<HttpResult>) =>
    middy(fn).use(authorize(permission));

  return middy(
    httpRouterHandler([
      { method: 'PUT', path: '/v1/clouds/{cloud}/iam-mapping', handler: route('write', put) },
      { method: 'GET', path: '/v1/clouds/{cloud}/iam-mapping', handler: route('read', get) },
      { method: 'GET', path: '/v1/clouds/{cloud}/iam-mapping/versions', handler: route('read', versions) },
    ]),
  ).use(errorResponses());
}

/**
 * Records the version's run as PENDING and starts the workflow. The version is committed either
 * way: if the start fails it stays PENDING and the scheduled check starts it later.
 */
async function startProvisioning(deps: Deps, cloudId: string, version: number) {
  await deps.runs.createRun(cloudId, version);
  try {
    const { executionId } = await deps.workflow.start({ cloudId, version });
    await deps.runs.updateRun(cloudId, version, { executionId }, { onlyFrom: ['PENDING', 'RUNNING'] });
    return { status: 'PENDING', execution_id: executionId };
  } catch (error) {
    logger.error('provisioning workflow could not be started', { cloudId, version, error: String(error) });
    return { status: 'PENDING', error: 'the provisioning workflow could not be started now; the scheduled check will start it' };
  }
}

export function versionView(meta: VersionMeta) {
  return {
    version: meta.version,
    etag: meta.etag,
    created_at: meta.createdAt,
    created_by: meta.createdBy,
    rule_count: meta.ruleCount,
    content_hash: meta.contentHash,
  };
}

function versionParam(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^[1-9]\d{0,9}$/.test(raw)) {
    throw new AppError('INVALID_REQUEST', `expected a positive integer, got ${JSON.stringify(raw.slice(0, 20))}`, [
      { path: 'query', message: 'must be a positive integer' },
    ]);
  }
  return Number(raw);
}

export const handler = createConfigHandler(lazyEnvDeps(process.env, stepFunctionsFromEnv));
