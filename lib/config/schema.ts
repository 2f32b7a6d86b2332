/**
 * The mapping config, in the shape `anyscale cloud config get` prints (seed 001), plus this
 * service's optional extensions: `dataplane_iam_mapping.default_value` (the cloud's default
 * identity, returned for CLOUD_DEFAULT) and `provisioning` (see lib/provisioning/settings.ts).
 * Shape only; the meaning of selectors and values is checked in validate.ts.
 */
import { z } from 'zod';
import { provisioningSettingsSchema } from '../provisioning/settings.js';
import { CLOUD_ID, CLOUD_ID_RULE, CLOUD_PROVIDERS, COMPUTE_STACKS, FALLBACK_RULES, MAX_RULES, MAX_SELECTOR_LENGTH, MAX_VALUE_LENGTH } from './constants.js';

export * from './constants.js';

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
  cloud_deployment_id: z.string().regex(CLOUD_ID, CLOUD_ID_RULE),
  cloud_provider: z.enum(CLOUD_PROVIDERS),
  compute_stack: z.enum(COMPUTE_STACKS),
  dataplane_iam_mapping: dataplaneIamMappingSchema,
  provisioning: provisioningSettingsSchema.optional(),
});

export type Rule = z.infer<typeof ruleSchema>;
export type MappingConfig = z.infer<typeof mappingConfigSchema>;

export { resolveRequestSchema, type ResolveRequest } from '../resolution/request.js';
