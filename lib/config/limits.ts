/**
 * The deployment's ceiling on distinct identities per config, without the config schema (so the
 * resolve bundle, which reads it at start, does not carry zod's full build).
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
