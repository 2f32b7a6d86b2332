/**
 * Sample launches for comparing two config versions: for each rule, one launch its selector
 * matches (where one can be built from the three labels a launch carries), and the launches of
 * clusters pinned by sticky resolution. Each is resolved by both versions; the ones whose identity
 * differs are what a change of config does to real launches (the plan route's `launches`).
 */
import { WORKLOAD_TYPES } from '../config/constants.js';
import { AppError } from '../errors.js';
import type { Selector } from '../selector/index.js';
import type { CompiledConfig } from './compile.js';
import { resolve, type Launch, type Resolution } from './resolve.js';

const LAUNCH_KEYS = ['workload-type', 'project', 'user'] as const;
const DEFAULTS: Record<(typeof LAUNCH_KEYS)[number], readonly string[]> = {
  'workload-type': WORKLOAD_TYPES,
  project: ['sample-project', 'sample-project-2'],
  user: ['sample-user@example.com', 'sample-user-2@example.com'],
};

/** A launch the selector matches, or null when none can be built (e.g. `!user`, `workload-type=batch`, another label key). */
export function sampleLaunch(selector: Selector): Launch | null {
  const labels: Record<string, string> = {};
  for (const key of LAUNCH_KEYS) {
    const reqs = selector.requirements.filter((r) => r.key === key);
    const candidates: string[] = [];
    for (const r of reqs) {
      if (r.operator === '=' || r.operator === '==' || r.operator === 'in') candidates.push(...r.values);
      else if (r.operator === 'gt') candidates.push(String(Number(r.values[0]) + 1));
      else if (r.operator === 'lt') candidates.push(String(Number(r.values[0]) - 1));
    }
    candidates.push(...DEFAULTS[key]);
    const allowed = key === 'workload-type' ? candidates.filter((c) => (WORKLOAD_TYPES as readonly string[]).includes(c)) : candidates;
    const value = allowed.find((c) => c !== '' && reqs.every((r) => r.matches({ [key]: c })));
    if (value === undefined) return null;
    labels[key] = value;
  }
  if (!selector.matches(labels)) return null; // a requirement on a label launches do not carry
  return { workload_type: labels['workload-type']!, project: labels.project!, user: labels.user! };
}

/** One side of a comparison: the identity, or NO_MATCH (fallback_rule FAIL). */
export interface SampleOutcome {
  value: string | null;
  source: Resolution['source'] | 'NO_MATCH';
  rule_index: number | null;
}

export function outcomeOf(compiled: CompiledConfig, launch: Launch): SampleOutcome {
  try {
    const r = resolve(compiled, launch);
    return { value: r.value, source: r.source, rule_index: r.rule_index };
  } catch (e) {
    if (e instanceof AppError && e.code === 'NO_MATCHING_RULE') return { value: null, source: 'NO_MATCH', rule_index: null };
    throw e;
  }
}

export interface SampleSource {
  launch: Launch;
  /** Where the launch came from: `rule 3 of the draft`, `rule 0 of version 7`, `pinned cluster c-1`. */
  derived_from: string;
  cluster_id?: string;
  /** A pinned cluster keeps this identity until its pin is forgotten (overrides the current version's answer). */
  pinned?: SampleOutcome;
}

export interface ChangedLaunch extends Launch {
  from: string | null;
  to: string | null;
  from_source: SampleOutcome['source'];
  to_source: SampleOutcome['source'];
  from_rule: number | null;
  to_rule: number | null;
  derived_from: string;
  cluster_id?: string;
}

/** The launches of both versions' rules (one per rule, de-duplicated) and of the pins. */
export function sampleSources(
  draft: { selectors: readonly Selector[] },
  current: { version: number; selectors: readonly Selector[] } | null,
  pins: ReadonlyArray<{ clusterId: string; launch: Launch; outcome: SampleOutcome }>,
): SampleSource[] {
  const out: SampleSource[] = [];
  const seen = new Set<string>();
  const add = (launch: Launch | null, derived_from: string) => {
    if (!launch) return;
    const key = `${launch.workload_type}\u0000${launch.project}\u0000${launch.user}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ launch, derived_from });
  };
  draft.selectors.forEach((s, i) => add(sampleLaunch(s), `rule ${i} of the draft`));
  current?.selectors.forEach((s, i) => add(sampleLaunch(s), `rule ${i} of version ${current.version}`));
  for (const pin of pins) out.push({ launch: pin.launch, derived_from: `pinned cluster ${pin.clusterId}`, cluster_id: pin.clusterId, pinned: pin.outcome });
  return out;
}

/** The sample launches whose identity differs between `current` (or the pin) and `draft`. */
export function changedLaunches(sources: readonly SampleSource[], current: CompiledConfig | null, draft: CompiledConfig): ChangedLaunch[] {
  const out: ChangedLaunch[] = [];
  for (const s of sources) {
    const from = s.pinned ?? (current ? outcomeOf(current, s.launch) : null);
    if (!from) continue;
    const to = outcomeOf(draft, s.launch);
    if (from.value === to.value && (from.source === 'NO_MATCH') === (to.source === 'NO_MATCH')) continue;
    out.push({
      ...s.launch,
      from: from.value,
      to: to.value,
      from_source: from.source,
      to_source: to.source,
      from_rule: from.rule_index,
      to_rule: to.rule_index,
      derived_from: s.derived_from,
      ...(s.cluster_id !== undefined ? { cluster_id: s.cluster_id } : {}),
    });
  }
  return out;
}
