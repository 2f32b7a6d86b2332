/**
 * Stored data is parsed where it enters the core, never cast: a corrupt or old item is a
 * StoredDataError naming the item and the offending field. Written with zod's mini API (no
 * locale, a few KB), so the resolve path can parse what it reads without the config schema.
 */
import * as z from 'zod/mini';
import type { $ZodIssue } from 'zod/v4/core';
import { CLOUD_PROVIDERS, COMPUTE_STACKS, FALLBACK_RULES } from './config/constants.js';
import type { MappingConfig } from './config/schema.js';
import { AppError } from './errors.js';
import type { StoredConfigVersion } from './ports.js';

/** A stored item (or a document inside one) does not have the shape the code reads. */
export class StoredDataError extends AppError {
  constructor(
    /** The item, e.g. `CLOUD#cldrsrc_x / VERSION#0000000003`. */
    readonly item: string,
    /** Dotted path of the first offending field, e.g. `resolution.config_version`. */
    readonly field: string,
    why: string,
  ) {
    super('INTERNAL', `stored item ${item} is corrupted: ${field ? `${field}: ` : ''}${why}`);
    this.name = 'StoredDataError';
  }
}

function describeIssue(issue: $ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      return `below the minimum ${String(issue.minimum)}`;
    case 'too_big':
      return `above the maximum ${String(issue.maximum)}`;
    case 'invalid_format':
      return `not in the expected format (${issue.format})`;
    default:
      return issue.message;
  }
}

const pathOf = (path: readonly PropertyKey[]): string =>
  path.reduce<string>((out, p) => (typeof p === 'number' ? `${out}[${p}]` : out === '' ? String(p) : `${out}.${String(p)}`), '');

/** Parses `value` (an item, or the field `base` of one) with `schema`; StoredDataError naming item and field otherwise. */
export function parseStored<T>(schema: z.ZodMiniType<T>, value: unknown, item: string, base = ''): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0] as $ZodIssue;
  throw new StoredDataError(item, [base, pathOf(issue.path)].filter((s) => s !== '').join('.'), describeIssue(issue));
}

/**
 * A stored config document: the shape of a MappingConfig, with `provisioning` left to be parsed
 * by whoever uses it (lib/provisioning/settings.ts `parseProvisioningSettings`), so resolution
 * never loads that schema. The document was fully validated when it was stored.
 */
export type StoredMappingConfig = Omit<MappingConfig, 'provisioning'> & { provisioning?: Record<string, unknown> };

const nonEmpty = z.string().check(z.minLength(1));

const storedMappingConfigSchema = z.looseObject({
  cloud_deployment_id: nonEmpty,
  cloud_provider: z.enum(CLOUD_PROVIDERS),
  compute_stack: z.enum(COMPUTE_STACKS),
  dataplane_iam_mapping: z.looseObject({
    rules: z.array(z.looseObject({ selector: z.string(), value: nonEmpty })),
    fallback_rule: z.enum(FALLBACK_RULES),
    default_value: z.optional(nonEmpty),
  }),
  provisioning: z.optional(z.record(z.string(), z.unknown())),
});

/**
 * The mapping config of a stored version, checked. Returned as stored (a zod parse would rebuild
 * it in schema order; the stored key order is the admin's).
 */
export function parseStoredConfig(stored: StoredConfigVersion): StoredMappingConfig {
  parseStored(storedMappingConfigSchema, stored.document, `config ${stored.cloudId} version ${stored.version}`, 'document');
  return stored.document as StoredMappingConfig;
}
