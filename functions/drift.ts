/**
 * Drift checks of a cloud's provisioned identities:
 *   POST /v1/clouds/{cloud}/drift-checks          (owner)  run one now; body `{"repair": bool}` optional
 *   GET  /v1/clouds/{cloud}/drift-checks/latest   (all)    the newest report (404 when none yet)
 *   GET  /v1/clouds/{cloud}/drift-checks          (all)    report history, newest first (?limit=)
 *   POST /v1/clouds/{cloud}/iam-mapping/plan      (owner)  plan a draft config against what exists now (reads IAM/Kubernetes, writes nothing)
 */
import { checkDriftNow, driftHistory, latestDriftReport } from '../app/use-cases/drift.js';
import { planDraft } from '../app/use-cases/plan.js';
import { httpFunction, type Operations } from './http/handler.js';
import { lambdaApp } from './lambda-app.js';
import { stepFunctionsFromEnv } from './sfn.js';
import { awsTargets } from './targets.js';
import { gcpTargets } from './gcp-targets.js';
import { gcpDefaultsFromEnv } from './gcp-env.js';

export const driftOperations: Operations<'drift'> = {
  runDriftCheck: ({ path, body }, app) => checkDriftNow(app, path.cloud, body),
  latestDriftReport: ({ path }, app) => latestDriftReport(app, path.cloud),
  driftHistory: ({ path, query }, app) => driftHistory(app, path.cloud, query.limit ? Number(query.limit) : 20),
  planConfig: ({ path, body }, app) => planDraft(app, { cloudId: path.cloud, body }),
};

/** The drift functions' adapters: Step Functions (repairs start runs) and the real IAM/EKS/Kubernetes. */
export const driftAdapters = (env: NodeJS.ProcessEnv) => ({
  workflow: () => stepFunctionsFromEnv(env),
  targets: awsTargets(env),
  gcp: gcpTargets(env),
  extraDefaults: gcpDefaultsFromEnv(env),
});

export const handler = httpFunction('drift', driftOperations, lambdaApp(driftAdapters));
