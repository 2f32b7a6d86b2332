/**
 * The mapping config, in the shape `anyscale cloud config get` prints (seed 001), plus this
 * service's optional extensions: `dataplane_iam_mapping.default_value` (the cloud's default
 * identity, returned for CLOUD_DEFAULT) and `provisioning` (see lib/provisioning/settings.ts).
 * Shape only; the meaning of selectors and values is checked in validate.ts.
 */
import { z } from 'zod';
import { provisioningSettingsSchema } from '../provisioning/settings.js';

export const CLOUD_PROVIDERS = ['AWS', 'GCP'] as const;
export const COMPUTE_STACKS = ['VM', 'K8S'] as const;
export const FALLBACK_RULES = ['CLOUD_DEFAULT', 'FAIL'] as const;
export const LABEL_KEYS = ['workload-type', 'project', 'user'] as const;
export const WORKLOAD_TYPES = ['job', 'service', 'workspace'] as const;
export type LabelKey = (typeof LABEL_KEYS)[number];
export type WorkloadType = (typeof WORKLOAD_TYPES)[number];
export type FallbackRule = (typeof FALLBACK_RULES)[number];

/** Rules per config. 10,000 must work (issue 2); the store chunks documents past DynamoDB's item limit. */
export const MAX_RULES = 25_000;
export const MAX_SELECTOR_LENGTH = 4_096;
export const MAX_VALUE_LENGTH = 256;
/** Cloud ids as Anyscale prints them (`cldrsrc_XXXX`, `cldrsrcgcp_...`); also the `{cloud}` path segment. */
export const CLOUD_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export const ruleSchema = z.strictObject({
  selector: z.string().max(MAX_SELECTOR_LENGTH),
  value: z.string().min(1).max(MAX_VALUE_LENGTH),
});

export const dataplaneIamMappingSchema = z.strictObject({
  rules: z.array(ruleSchema).max(MAX_RULES),
  fallback_rule: z.enum(FALLBACK_RULES),
  default_value: z.string().min(1).max(MAX_VALUE_LENGTH).optional(),
});

export const mappingConfigSchema = z.strictObject({
  cloud_deployment_id: z.string().regex(CLOUD_ID, 'must be a cloud deployment id such as cldrsrc_XXXX (letters, digits, _ and -)'),
  cloud_provider: z.enum(CLOUD_PROVIDERS),
  compute_stack: z.enum(COMPUTE_STACKS),
  dataplane_iam_mapping: dataplaneIamMappingSchema,
  provisioning: provisioningSettingsSchema.optional(),
});

export type Rule = z.infer<typeof ruleSchema>;
export type MappingConfig = z.infer<typeof mappingConfigSchema>;

/** The resolution request of the control plane (`POST .../resolve`). */
export const resolveRequestSchema = z.strictObject({
  workload_type: z.enum(WORKLOAD_TYPES),
  project: z.string().min(1).max(256),
  user: z.string().min(1).max(320),
  cluster_id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,254}$/, 'must be 1-255 letters, digits or _.:-').optional(),
});
export type ResolveRequest = z.infer<typeof resolveRequestSchema>;
