/**
 * The zod shape check of a whole mapping config, in slices: the rules array (up to 25,000 rules,
 * 5 MiB) is checked 512 rules at a time with a yield point between slices (lib/steps.ts), the
 * rest of the document once. The result is the one `mappingConfigSchema.safeParse` gives: a valid
 * document parses to the same value; for an invalid one the whole document is checked again in
 * one go, so every issue (paths, messages) is exactly the full check's.
 */
import { z } from 'zod';
import { MAX_RULES, mappingConfigSchema, ruleSchema } from './schema.js';

/** Rules per slice. */
const SLICE = 512;

const rulesSlice = z.array(ruleSchema);

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function* shapeSteps(document: unknown): Generator<void, ReturnType<typeof mappingConfigSchema.safeParse>, void> {
  const mapping = isRecord(document) ? document.dataplane_iam_mapping : undefined;
  const rules = isRecord(mapping) ? mapping.rules : undefined;
  if (!isRecord(document) || !isRecord(mapping) || !Array.isArray(rules) || rules.length <= SLICE || rules.length > MAX_RULES) {
    return mappingConfigSchema.safeParse(document);
  }
  const parsed: Array<z.infer<typeof ruleSchema>> = [];
  for (let start = 0; start < rules.length; start += SLICE) {
    const slice = rulesSlice.safeParse(rules.slice(start, start + SLICE));
    if (!slice.success) return mappingConfigSchema.safeParse(document);
    for (const rule of slice.data) parsed.push(rule);
    yield;
  }
  const rest = mappingConfigSchema.safeParse({ ...document, dataplane_iam_mapping: { ...mapping, rules: [] } });
  if (!rest.success) return mappingConfigSchema.safeParse(document);
  rest.data.dataplane_iam_mapping.rules = parsed;
  return rest;
}
