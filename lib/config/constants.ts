/**
 * The vocabulary of mapping configs, with no schema library attached: the resolve path imports
 * these without pulling in the config schema (and zod's full API) it does not need.
 */
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
export const CLOUD_ID_RULE = 'must be a cloud deployment id such as cldrsrc_XXXX (letters, digits, _ and -)';
