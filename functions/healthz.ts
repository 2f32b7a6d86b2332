/** GET /v1/healthz — no auth, no store access: the latency floor. */
import { json, type HttpResult } from './http.js';

export const handler = async (): Promise<HttpResult> => json(200, { ok: true });
