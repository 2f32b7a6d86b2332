/**
 * The resolution request of the control plane (`POST .../resolve`). Written with zod's mini API:
 * the resolve Lambda validates only this, and zod/mini keeps its bundle a few KB instead of the
 * ~450 KB of the full API (checked by `npm run bench -- bundle`). Mini loads no locale, so every
 * check names its own message.
 */
import * as z from 'zod/mini';
import { WORKLOAD_TYPES } from '../config/constants.js';

const text = (max: number) =>
  z.string({ error: 'must be a string' }).check(z.minLength(1, 'must not be empty'), z.maxLength(max, `must be at most ${max} characters`));

export const resolveRequestSchema = z.strictObject(
  {
    workload_type: z.enum(WORKLOAD_TYPES, { error: `must be one of ${WORKLOAD_TYPES.join(', ')}` }),
    project: text(256),
    user: text(320),
    cluster_id: z.optional(
      z.string({ error: 'must be a string' }).check(z.regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,254}$/, 'must be 1-255 letters, digits or _.:-')),
    ),
  },
  { error: (issue) => (issue.code === 'invalid_type' ? 'must be a JSON object' : undefined) },
);
export type ResolveRequest = z.infer<typeof resolveRequestSchema>;
