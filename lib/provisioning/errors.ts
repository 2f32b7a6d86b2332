import { AppError, type ErrorDetail } from '../errors.js';

/**
 * The configuration cannot be provisioned as written (a trust policy over its size quota, two
 * identities that would share one IAM role, a cluster whose OIDC provider does not belong to the
 * account, ...). Raised while planning, before anything is created, so the caller can refuse the
 * config (400 INVALID_CONFIG) or fail the run with a message an admin can act on.
 */
export class PlanError extends AppError {
  constructor(message: string, details: ErrorDetail[] = []) {
    super('INVALID_CONFIG', message, details);
    this.name = 'PlanError';
  }
}
