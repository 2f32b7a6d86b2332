/**
 * A PUT that changes `cloud_provider` or `compute_stack` turns every identity the old stack made
 * into something the new version does not want (EKS roles and ServiceAccounts vs instance
 * profiles). It needs an explicit confirmation in the request — query `confirm_stack_change=true`
 * or header `X-Confirm-Stack-Change: true` — else 409 CONFLICT naming the old and new stack.
 * Confirmed, the response warns that the old identities stay until removed: the provisioning
 * status lists them as `lingering`, drift reports them as orphans, and
 * `provisioning.drift.delete_orphans: true` removes them.
 */
import { AppError } from '../errors.js';

export interface Stack {
  cloud_provider: string;
  compute_stack: string;
}

export const CONFIRM_STACK_CHANGE_QUERY = 'confirm_stack_change';
export const CONFIRM_STACK_CHANGE_HEADER = 'x-confirm-stack-change';

export interface StackChangeWarning {
  code: 'STACK_CHANGED';
  path: string;
  message: string;
}

const label = (s: Stack) => `${s.cloud_provider}/${s.compute_stack}`;

/** Whether the request confirms a stack change (`true`, case-insensitive, in the query or the header). */
export function stackChangeConfirmed(query: Readonly<Record<string, string | undefined>> | null | undefined, headerValue: string | undefined): boolean {
  const q = query?.[CONFIRM_STACK_CHANGE_QUERY];
  return q?.toLowerCase() === 'true' || headerValue?.trim().toLowerCase() === 'true';
}

/**
 * Throws 409 CONFLICT when `next` changes the stack of `previous` without confirmation; returns
 * the warning for the response when it does so with confirmation; null when nothing changes.
 */
export function checkStackChange(cloudId: string, previous: Stack | null, next: Stack, confirmed: boolean): StackChangeWarning | null {
  if (!previous || (previous.cloud_provider === next.cloud_provider && previous.compute_stack === next.compute_stack)) return null;
  const what = previous.cloud_provider !== next.cloud_provider ? 'cloud_provider' : 'compute_stack';
  if (!confirmed) {
    throw new AppError(
      'CONFLICT',
      `cloud ${cloudId} changes from ${label(previous)} to ${label(next)}: the identities provisioned for ${label(previous)} would no longer be wanted. ` +
        `Repeat the request with ?${CONFIRM_STACK_CHANGE_QUERY}=true (or header X-Confirm-Stack-Change: true) to confirm`,
      [{ path: what, message: `changes from ${label(previous)} to ${label(next)}; confirm with ?${CONFIRM_STACK_CHANGE_QUERY}=true` }],
    );
  }
  return {
    code: 'STACK_CHANGED',
    path: what,
    message:
      `changed from ${label(previous)} to ${label(next)}: the identities made for ${label(previous)} stay until removed — the provisioning status lists them ` +
      `as lingering, drift reports them as orphans, and provisioning.drift.delete_orphans: true removes them`,
  };
}
