/** GET /v1/clouds/{cloud}/iam-mapping/provisioning — the provisioning run of the latest (or a given) config version. */
import { provisioningStatus } from '../app/use-cases/provisioning.js';
import { httpFunction, type Operations } from './http/handler.js';
import { lambdaApp } from './lambda-app.js';

export const provisioningStatusOperations: Operations<'provisioningStatus'> = {
  provisioningStatus: ({ path, query }, app) => provisioningStatus(app, path.cloud, query.version ? Number(query.version) : undefined),
};

export const handler = httpFunction('provisioningStatus', provisioningStatusOperations, lambdaApp());
