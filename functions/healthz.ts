/** GET /v1/healthz — no auth, no store access: the latency floor. */
import { httpFunction, type Operations } from './http/handler.js';
import { lambdaApp } from './lambda-app.js';

export const healthzOperations: Operations<'healthz'> = {
  health: async () => ({ ok: true }),
};

export const handler = httpFunction('healthz', healthzOperations, lambdaApp());
