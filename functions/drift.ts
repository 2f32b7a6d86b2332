/**
 * Drift checks of a cloud's provisioned identities:
 *   POST /v1/clouds/{cloud}/drift-checks          (owner)  run one now; body `{"repair": bool}` optional; 202 when it
 *                                                          outlasts DRIFT_DEADLINE_SECONDS and goes on in the drift worker
 *   GET  /v1/clouds/{cloud}/drift-checks/latest   (all)    the newest report (404 when none yet)
 *   GET  /v1/clouds/{cloud}/drift-checks/background (all)  handed-off checks running in the worker, or failed there lately
 *   GET  /v1/clouds/{cloud}/drift-checks          (all)    report history, newest first (?limit=)
 *   POST /v1/clouds/{cloud}/iam-mapping/plan      (owner)  plan a draft config against what exists now (reads IAM/Kubernetes, writes nothing)
 */
import { backgroundDriftChecks, checkDriftNow, driftHistory, latestDriftReport } from '../app/use-cases/drift.js';
import { planDraft } from '../app/use-cases/plan.js';
import { httpFunction, type Operations } from './http/handler.js';
import { LambdaDriftHandOff } from '../adapters/aws/drift-hand-off.js';
import { accepted } from './http/route.js';
import { lambdaApp, regionOf, type EntryAdapters } from './lambda-app.js';
import { stepFunctionsFromEnv } from './sfn.js';
import { awsTargets } from './targets.js';
import { gcpTargets } from './gcp-targets.js';
import { gcpDefaultsFromEnv } from './gcp-env.js';

export const driftOperations: Operations<'drift'> = {
  runDriftCheck: async ({ path, body, principal }, app) => {
    const outcome = await checkDriftNow(app, path.cloud, { ...body, requestedBy: principal.subject });
    if ('report' in outcome) return outcome.report;
    const latest = `/v1/clouds/${encodeURIComponent(path.cloud)}/drift-checks/latest`;
    const seconds = outcome.deadlineMs / 1000;
    return accepted(
      {
        cloud_deployment_id: path.cloud,
        status: 'running' as const,
        requested_at: outcome.handedOff.requestedAt,
        report: latest,
        message: outcome.joined
          ? `a check of this cloud requested at ${outcome.handedOff.requestedAt} is already running in the background and answers this one; GET ${latest} shows its report once its checked_at is at or after requested_at`
          : `the check takes longer than ${seconds} s and goes on in the background; GET ${latest} shows its report once its checked_at is at or after requested_at`,
      },
      { location: latest, 'retry-after': String(Math.max(5, Math.ceil(seconds))) },
    );
  },
  latestDriftReport: ({ path }, app) => latestDriftReport(app, path.cloud),
  backgroundDriftChecks: ({ path }, app) => backgroundDriftChecks(app, path.cloud),
  driftHistory: ({ path, query }, app) => driftHistory(app, path.cloud, query.limit ? Number(query.limit) : 20),
  planConfig: ({ path, body }, app) => planDraft(app, { cloudId: path.cloud, body }),
};

/** The drift functions' adapters: Step Functions (repairs start runs) and the real IAM/EKS/Kubernetes. */
export const driftAdapters = (env: NodeJS.ProcessEnv): EntryAdapters => ({
  workflow: () => stepFunctionsFromEnv(env),
  // On-demand checks that outlast DRIFT_DEADLINE_SECONDS go on in the drift schedule function.
  ...(env.DRIFT_WORKER_FUNCTION ? { driftHandOff: () => new LambdaDriftHandOff(env.DRIFT_WORKER_FUNCTION!, { region: regionOf(env) }) } : {}),
  targets: awsTargets(env),
  gcp: gcpTargets(env),
  extraDefaults: gcpDefaultsFromEnv(env),
});

export const handler = httpFunction('drift', driftOperations, lambdaApp(driftAdapters));
