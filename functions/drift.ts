/**
 * Drift checks of a cloud's provisioned identities:
 *   POST /v1/clouds/{cloud}/drift-checks          (owner)  run one now; body `{"repair": bool}` optional
 *   GET  /v1/clouds/{cloud}/drift-checks/latest   (all)    the newest report (404 when none yet)
 *   GET  /v1/clouds/{cloud}/drift-checks          (all)    report history, newest first (?limit=)
 */
import middy from '@middy/core';
import httpRouterHandler from '@middy/http-router';
import { z } from 'zod';
import { createTargets } from '../adapters/targets.js';
import { runDriftCheck, type DriftDeps } from '../lib/drift/check.js';
import { AppError, DependencyUnavailableError } from '../lib/errors.js';
import { TargetError } from '../lib/target-errors.js';
import { cloudOf } from './cloud.js';
import { lazyEnvDeps, settingsDefaultsFromEnv } from './deps.js';
import { stepFunctionsFromEnv } from './sfn.js';
import { awsTargetsFromEnv } from './workflow-deps.js';
import { bodyText, json, type HttpContext, type HttpEvent, type HttpResult } from './http.js';
import { authorize } from './middleware/auth.js';
import { errorResponses } from './middleware/errors.js';

const requestSchema = z.strictObject({ repair: z.boolean().optional() });

function parseRequest(event: HttpEvent): { repair?: boolean } {
  const text = bodyText(event).trim();
  if (text === '') return {};
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new AppError('INVALID_REQUEST', 'request body is not valid JSON', [{ path: 'body', message: 'must be JSON such as {"repair": true}' }]);
  }
  const parsed = requestSchema.safeParse(raw);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => ({ path: i.path.join('.') || 'body', message: i.message }));
    throw new AppError('INVALID_REQUEST', `invalid drift-check request: ${details[0]?.path}: ${details[0]?.message}`, details);
  }
  return parsed.data;
}

export function createDriftHandler(getDeps: () => DriftDeps) {
  const run = async (event: HttpEvent): Promise<HttpResult> => {
    const cloudId = cloudOf(event);
    const { repair } = parseRequest(event);
    try {
      const report = await runDriftCheck(getDeps(), cloudId, { trigger: 'api', ...(repair !== undefined ? { repair } : {}) });
      return json(200, report);
    } catch (e) {
      // IAM / EKS / Kubernetes failures: throttling and outages are a dependency being down (503).
      if (e instanceof TargetError) {
        if (e.retryable) throw new DependencyUnavailableError('a provisioning target (IAM, EKS or Kubernetes)', e, 5);
        throw new AppError('INTERNAL', `drift check of ${cloudId} failed: ${e.name}: ${e.message}`);
      }
      throw e;
    }
  };

  const latest = async (event: HttpEvent): Promise<HttpResult> => {
    const cloudId = cloudOf(event);
    const report = await getDeps().reports.latestReport(cloudId);
    if (!report) throw new AppError('NOT_FOUND', `cloud ${cloudId} has no drift report yet`);
    return json(200, report);
  };

  const history = async (event: HttpEvent): Promise<HttpResult> => {
    const cloudId = cloudOf(event);
    const raw = event.queryStringParameters?.limit;
    if (raw !== undefined && !/^[1-9]\d{0,2}$/.test(raw)) {
      throw new AppError('INVALID_REQUEST', `limit must be an integer from 1 to 100, got ${JSON.stringify(raw.slice(0, 20))}`, [{ path: 'limit', message: 'must be 1..100' }]);
    }
    const reports = await getDeps().reports.listReports(cloudId, { limit: raw ? Math.min(Number(raw), 100) : 20 });
    return json(200, { cloud_deployment_id: cloudId, reports });
  };

  const route = (permission: 'read' | 'drift:run', fn: (e: HttpEvent, c: HttpContext) => Promise<HttpResult>) => middy(fn).use(authorize(permission));

  return middy(
    httpRouterHandler([
      { method: 'POST', path: '/v1/clouds/{cloud}/drift-checks', handler: route('drift:run', run) },
      { method: 'GET', path: '/v1/clouds/{cloud}/drift-checks/latest', handler: route('read', latest) },
      { method: 'GET', path: '/v1/clouds/{cloud}/drift-checks', handler: route('read', history) },
    ]),
  ).use(errorResponses());
}

/** Deps of the drift functions deployed: the API's stores and workflow starter, real IAM/EKS/Kubernetes. */
export function lazyDriftDeps(env: NodeJS.ProcessEnv = process.env): () => DriftDeps {
  let deps: DriftDeps | undefined;
  const api = lazyEnvDeps(env, stepFunctionsFromEnv);
  return () => {
    if (deps) return deps;
    const { configs, runs, drift, workflow, ownership } = api();
    const targets = createTargets(awsTargetsFromEnv(env));
    deps = {
      configs,
      runs,
      reports: drift,
      ownership,
      workflow,
      iam: targets.iam,
      clusters: targets.clusters,
      kubernetes: targets.kubernetes,
      defaults: settingsDefaultsFromEnv(env),
      ...(env.DRIFT_CONCURRENCY ? { concurrency: Number(env.DRIFT_CONCURRENCY) } : {}),
    };
    return deps;
  };
}

export const handler = createDriftHandler(lazyDriftDeps());
