/**
 * Deterministic generator of realistic N-rule mapping configs, and a deterministic launch sampler.
 *
 * Config shape (in rule order):
 * - body (all but the last TAIL rules), a seeded mix of
 *   - per-user rules (~66%): `workload-type in (job,service),user=U`, `user=U`,
 *     `user=U,workload-type=workspace`, `project in (P,Q),user=U`, `project notin (P,Q),user=U`;
 *   - per-project rules (~28%): `project in (P1..Pk)`, `project=P,workload-type in (job,service)`,
 *     `project in (P,Q),user!=ci-bot@example.com`;
 *   - other exclusions (~6%): `project=P,user notin (A,B)`, `project in (P,Q),workload-type!=workspace`;
 * - tail: workload-type-only catch-alls (`workload-type=workspace`,
 *   `project notin (sandbox-…),workload-type=service`) and one unindexed
 *   `project notin (sandbox-…),user!=ci-bot@example.com`; fallback CLOUD_DEFAULT.
 * Values: ~1 distinct service account per 50 rules, shared across rules.
 * Sandbox projects and guest users appear in no body rule, so `job`/`service` launches from a guest
 * in a sandbox project match nothing (misses).
 *
 * Everything comes from a seeded PRNG (mulberry32): same (n, seed) → same config, same launches.
 */

export type Key = 'workload-type' | 'project' | 'user';
export const WORKLOAD_TYPES = ['job', 'service', 'workspace'] as const;

/** What a rule requires of one key: one of `values`, or none of them. */
export interface KeyConstraint {
  op: 'in' | 'notin';
  values: readonly string[];
}

export interface RuleSpec {
  selector: string;
  value: string;
  constraints: Partial<Record<Key, KeyConstraint>>;
}

export interface BenchConfig {
  cloud_deployment_id: string;
  cloud_provider: 'AWS';
  compute_stack: 'K8S';
  dataplane_iam_mapping: {
    rules: Array<{ selector: string; value: string }>;
    fallback_rule: 'CLOUD_DEFAULT';
  };
}

export interface GeneratedConfig {
  config: BenchConfig;
  specs: RuleSpec[];
  users: string[];
  projects: string[];
  sandboxes: string[];
  seed: number;
}

export interface Launch {
  workload_type: string;
  project: string;
  user: string;
}

export type LaunchKind = 'early' | 'middle' | 'late' | 'miss';

export interface SampledLaunch {
  launch: Launch;
  kind: LaunchKind;
  /** The rule the launch was built to match (null for misses); an earlier rule may still win. */
  target: number | null;
}

export const CLOUD_ID = 'cldrsrc_bench';
const TEAMS = ['ml', 'search', 'ads', 'vision', 'nlp', 'infra', 'risk', 'recs', 'fraud', 'growth'];
const SANDBOX_COUNT = 5;
const CI_BOT = 'ci-bot@example.com';
const TAIL = 3;
/** Rules per distinct identity value (10,000 rules → 200 service accounts). */
const IDENTITY_RATIO = 50;

/** mulberry32: small, fast, good enough for benchmark data. Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!;
  }
  /** k distinct elements of `list` (k ≤ list.length). */
  sample<T>(list: readonly T[], k: number): T[] {
    const chosen = new Set<number>();
    while (chosen.size < k) chosen.add(this.int(list.length));
    return [...chosen].map((i) => list[i]!);
  }
  shuffle<T>(list: T[]): T[] {
    for (let i = list.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [list[i], list[j]] = [list[j]!, list[i]!];
    }
    return list;
  }
}

const setText = (key: string, c: KeyConstraint): string =>
  c.values.length === 1 ? `${key}${c.op === 'in' ? '=' : '!='}${c.values[0]}` : `${key} ${c.op} (${c.values.join(',')})`;

function render(constraints: Partial<Record<Key, KeyConstraint>>): string {
  // Written the way people write them: workload-type first, then project, then user.
  const parts: string[] = [];
  for (const key of ['workload-type', 'project', 'user'] as const) {
    const c = constraints[key];
    if (c) parts.push(setText(key, c));
  }
  return parts.join(',');
}

export function generateConfig(n: number, seed = 20240601): GeneratedConfig {
  const rng = new Rng(seed);
  const bodyCount = Math.max(0, n - TAIL);
  const users = rng.shuffle(Array.from({ length: Math.ceil(bodyCount * 0.7) + 10 }, (_, i) => `user${i}@example.com`));
  const projects = rng.shuffle(
    Array.from({ length: Math.ceil(bodyCount * 0.8) + 10 }, (_, i) => `proj-${TEAMS[i % TEAMS.length]}-${i}`),
  );
  const sandboxes = Array.from({ length: SANDBOX_COUNT }, (_, i) => `sandbox-${i}`);
  const specs: RuleSpec[] = [];
  let userCursor = 0;
  const nextUser = () => users[userCursor++ % users.length]!;
  // Identities: many rules share a few hundred service accounts (one per team function/project
  // group), as in real mappings; every distinct value is provisioned (role + service account).
  const identities = Array.from({ length: Math.max(10, Math.ceil(bodyCount / IDENTITY_RATIO)) }, (_, i) => `sa-${TEAMS[i % TEAMS.length]}-${i}`);
  const sa = (_kind: string, _i: number) => rng.pick(identities);
  const push = (constraints: Partial<Record<Key, KeyConstraint>>, value: string) =>
    specs.push({ selector: render(constraints), value, constraints });

  for (let i = 0; i < bodyCount; i++) {
    const r = rng.next();
    const v = rng.next();
    if (r < 0.66) {
      const user: KeyConstraint = { op: 'in', values: [nextUser()] };
      if (v < 0.45) push({ 'workload-type': { op: 'in', values: ['job', 'service'] }, user }, sa('user', i));
      else if (v < 0.65) push({ user }, sa('user', i));
      else if (v < 0.8) push({ 'workload-type': { op: 'in', values: ['workspace'] }, user }, sa('ws', i));
      else if (v < 0.92) push({ project: { op: 'in', values: rng.sample(projects, 1 + rng.int(3)) }, user }, sa('userproj', i));
      else push({ project: { op: 'notin', values: rng.sample(projects, 2) }, user }, sa('user', i));
    } else if (r < 0.94) {
      if (v < 0.5) push({ project: { op: 'in', values: rng.sample(projects, 1 + rng.int(4)) } }, sa('proj', i));
      else if (v < 0.8) {
        push({ 'workload-type': { op: 'in', values: ['job', 'service'] }, project: { op: 'in', values: [rng.pick(projects)] } }, sa('proj', i));
      } else push({ project: { op: 'in', values: rng.sample(projects, 2) }, user: { op: 'notin', values: [CI_BOT] } }, sa('proj', i));
    } else if (v < 0.5) {
      push({ project: { op: 'in', values: [rng.pick(projects)] }, user: { op: 'notin', values: rng.sample(users, 2) } }, sa('excl', i));
    } else {
      push({ 'workload-type': { op: 'notin', values: ['workspace'] }, project: { op: 'in', values: rng.sample(projects, 2) } }, sa('excl', i));
    }
  }
  // Tail: workload-type-only catch-alls, then one rule no index key restricts (always visited).
  const tail: Array<[Partial<Record<Key, KeyConstraint>>, string]> = [
    [{ 'workload-type': { op: 'in', values: ['workspace'] } }, 'sa-workspace-default'],
    [{ 'workload-type': { op: 'in', values: ['service'] }, project: { op: 'notin', values: sandboxes } }, 'sa-service-default'],
    [{ project: { op: 'notin', values: sandboxes }, user: { op: 'notin', values: [CI_BOT] } }, 'sa-job-default'],
  ];
  for (const [c, value] of tail.slice(0, Math.min(TAIL, n))) push(c, value);

  return {
    config: {
      cloud_deployment_id: CLOUD_ID,
      cloud_provider: 'AWS',
      compute_stack: 'K8S',
      dataplane_iam_mapping: { rules: specs.map(({ selector, value }) => ({ selector, value })), fallback_rule: 'CLOUD_DEFAULT' },
    },
    specs,
    users,
    projects,
    sandboxes,
    seed,
  };
}

/** Launch mix: hits built for early / middle / late rules, and misses. */
export const LAUNCH_MIX: Readonly<Record<LaunchKind, number>> = { early: 0.3, middle: 0.25, late: 0.25, miss: 0.2 };

export function sampleLaunches(gen: GeneratedConfig, count: number, seed = 7): SampledLaunch[] {
  const rng = new Rng(seed);
  const n = gen.specs.length;
  const ranges: Record<Exclude<LaunchKind, 'miss'>, [number, number]> = {
    early: [0, Math.max(1, Math.floor(n * 0.1))],
    middle: [Math.floor(n * 0.45), Math.max(Math.floor(n * 0.45) + 1, Math.floor(n * 0.55))],
    late: [Math.floor(n * 0.9), n],
  };
  let guest = 0;
  const unknownUser = () => `guest${guest++}@example.com`;
  const unknownProject = () => `proj-adhoc-${rng.int(1_000_000)}`;
  // Unconstrained keys mostly get values no rule names (so the built-for rule is usually the
  // winner), sometimes a known value (so earlier rules can win first).
  const free = (known: readonly string[], unknown: () => string) => (rng.next() < 0.8 ? unknown() : rng.pick(known));
  const satisfy = (c: KeyConstraint | undefined, known: readonly string[], unknown: () => string): string => {
    if (!c) return free(known, unknown);
    if (c.op === 'in') return rng.pick(c.values);
    for (;;) {
      const candidate = free(known, unknown);
      if (!c.values.includes(candidate)) return candidate;
    }
  };

  const out: SampledLaunch[] = [];
  for (let i = 0; i < count; i++) {
    const r = rng.next();
    const kind: LaunchKind = r < LAUNCH_MIX.early ? 'early' : r < LAUNCH_MIX.early + LAUNCH_MIX.middle ? 'middle' : r < 1 - LAUNCH_MIX.miss ? 'late' : 'miss';
    if (kind === 'miss' || n === 0) {
      // A guest in a sandbox project, running a job or a service: no rule covers it.
      const launch = { workload_type: rng.pick(['job', 'service']), project: rng.pick(gen.sandboxes), user: unknownUser() };
      out.push({ launch, kind: 'miss', target: null });
      continue;
    }
    const [lo, hi] = ranges[kind];
    const target = lo + rng.int(hi - lo);
    const c = gen.specs[target]!.constraints;
    const launch: Launch = {
      workload_type: satisfy(c['workload-type'], WORKLOAD_TYPES, () => rng.pick(WORKLOAD_TYPES)),
      project: satisfy(c.project, gen.projects, unknownProject),
      user: satisfy(c.user, gen.users, unknownUser),
    };
    out.push({ launch, kind, target });
  }
  return out;
}
