/**
 * The deployment's limits that every function reads from its environment at start (the ceiling
 * on distinct identities per config, IAM's PoliciesPerRole quota), without the config schema or
 * the provisioning settings, so the resolve bundle does not carry zod's full build.
 */

/** IAM's hard ceiling of roles per account: no deployment may allow more identities. */
export const IDENTITY_CEILING_MAX = 5_000;
/** IAM's default quota of roles per account: the ceiling unless the deployment raises it. */
export const IDENTITY_CEILING_DEFAULT = 1_000;

/**
 * The ceiling a deployment allows, from its setting (`MAX_IDENTITIES`): default 1,000, never above
 * 5,000; an unparsable or non-positive setting is refused at start rather than silently ignored.
 */
export function identityCeiling(setting: string | number | undefined): number {
  if (setting === undefined || setting === '') return IDENTITY_CEILING_DEFAULT;
  const n = typeof setting === 'number' ? setting : Number(setting);
  if (!Number.isInteger(n) || n < 1) throw new Error(`MAX_IDENTITIES must be a positive integer, got ${JSON.stringify(setting)}`);
  return Math.min(n, IDENTITY_CEILING_MAX);
}

/** IAM's managed policies per role: 10 by default, raisable to 20 (the PoliciesPerRole quota). */
export const POLICIES_PER_ROLE_DEFAULT = 10;
export const POLICIES_PER_ROLE_MAX = 20;

/** MANAGED_POLICIES_PER_ROLE: the account's PoliciesPerRole quota (IAM: 10 by default, at most 20); anything else is refused at start. */
export function policiesPerRole(setting: string | undefined): number {
  if (setting === undefined || setting === '') return POLICIES_PER_ROLE_DEFAULT;
  const n = Number(setting);
  if (!Number.isInteger(n) || n < 1 || n > POLICIES_PER_ROLE_MAX) {
    throw new Error(
      `MANAGED_POLICIES_PER_ROLE must be an integer from 1 to ${POLICIES_PER_ROLE_MAX} (IAM's PoliciesPerRole quota), got ${JSON.stringify(setting)}`,
    );
  }
  return n;
}
