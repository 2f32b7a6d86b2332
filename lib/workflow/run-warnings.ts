/**
 * Warnings of a finished provisioning run: what the run could not do itself but an operator must,
 * computed once in Finalize. Today: AWS VM — may the control plane pass each instance-profile role
 * to EC2 (lib/provisioning/pass-role.ts)? The roles and profiles exist either way, so this never
 * fails the run; it is reported on the run status (and by every drift check until it is fixed).
 */
import type { IamPort, RunWarning } from '../ports.js';
import { checkPassRole, passRoleInputOf, passRoleWarnings } from '../provisioning/pass-role.js';
import type { PlannedVersion } from './planning.js';

/** The run's warnings, or null when nothing applies to this config (then the run's warnings are left as they are). */
export async function runWarnings(iam: IamPort, planned: () => Promise<PlannedVersion>): Promise<RunWarning[] | null> {
  let input;
  try {
    const { plan, settings } = await planned();
    input = passRoleInputOf(plan, settings);
  } catch {
    return null; // a version that does not plan failed in Plan already, with its reason
  }
  // [] is written too: a repair run of the same version clears what an earlier run reported.
  return input ? passRoleWarnings(await checkPassRole(iam, input)) : null;
}
