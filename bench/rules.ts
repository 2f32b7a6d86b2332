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
  const projects = rng.shuffle(Array.from({ length: Math.ceil(bodyCount * 0.8) + 10 }, (_, i) => `proj-${TEAMS[i % TEAMS.length]}-${i}`));
  const sandboxes = Array.from({ length: SANDBOX_COUNT }, (_, i) => `sandbox-${i}`);
  const specs: RuleSpec[] = [];
  let userCursor = 0;
  const nextUser = () => users[userCursor++ % users.length]!;
  // Identities: many rules share a few hundred service accounts (one per team function/project
  // group), as in real mappings; every distinct value is provisioned (role + service account).
  const identities = Array.from({ length: Math.max(10, Math.ceil(bodyCount / IDENTITY_RATIO)) }, (_, i) => `sa-${TEAMS[i % TEAMS.length]}-${i}`);
  const sa = (_kind: string, _i: number) => rng.pick(identities);
  const push = (constraints: Partial<Record<Key, KeyConstraint>>, value: string) => specs.push({ selector: render(constraints), value, constraints });

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

/**
 * Adversarial shapes: n-rule configs (all accepted by the config schema) of the kinds a
 * positive-equality index cannot narrow — negations, exists, `!key`, `in ()`, notin over
 * workload-type, gt/lt ranges, large shared value sets, random mixes of every operator — each with
 * a launch pool dominated by launches that every rule but the last (or none) rejects.
 */
export interface Shape {
  name: string;
  /** What the rules look like, for the report. */
  shape: string;
  selectors: string[];
  launches: Launch[];
}

export function shapeConfig(shape: Shape): BenchConfig {
  const ids = Array.from({ length: 50 }, (_, i) => `sa-shape-${i}`);
  return {
    cloud_deployment_id: CLOUD_ID,
    cloud_provider: 'AWS',
    compute_stack: 'K8S',
    dataplane_iam_mapping: {
      rules: shape.selectors.map((selector, i) => ({ selector, value: ids[i % ids.length]! })),
      fallback_rule: 'CLOUD_DEFAULT',
    },
  };
}

export function adversarialShapes(n: number, launchCount = 2_000, seed = 424242): Shape[] {
  const rng = new Rng(seed);
  const user = (i: number) => `user${i}@example.com`;
  const proj = (i: number) => `proj-${TEAMS[i % TEAMS.length]}-${i}`;
  const build = (name: string, shape: string, rule: (i: number) => string, last: string, launch: (k: number) => Launch): Shape => ({
    name,
    shape,
    selectors: Array.from({ length: n }, (_, i) => (i === n - 1 ? last : rule(i))),
    launches: Array.from({ length: launchCount }, (_, k) => launch(k)),
  });
  const wt = () => rng.pick(WORKLOAD_TYPES);
  const someUser = () => (rng.next() < 0.5 ? user(rng.int(n)) : `guest${rng.int(1e6)}@example.com`);
  const someProject = () => (rng.next() < 0.5 ? proj(rng.int(n)) : `proj-adhoc-${rng.int(1e6)}`);

  const shapes: Shape[] = [
    build(
      'negations',
      '`project notin (P_i,shared),user!=U_i`; last `user!=ci-bot@example.com`',
      (i) => `project notin (${proj(i)},proj-shared),user!=${user(i)}`,
      `user!=${CI_BOT}`,
      // 3 in 4 launches are in the shared project: every rule but the last rejects them.
      (k) => ({ workload_type: wt(), project: k % 4 === 0 ? someProject() : 'proj-shared', user: someUser() }),
    ),
    build(
      'exists-neq',
      '`project,user!=shared` / `project,user notin (shared,U_i)`; last `project`',
      (i) => (i % 2 === 0 ? 'project,user!=shared@example.com' : `project,user notin (shared@example.com,${user(i)})`),
      'project',
      (k) => ({ workload_type: wt(), project: someProject(), user: k % 4 === 0 ? someUser() : 'shared@example.com' }),
    ),
    build(
      'workload-notin',
      '`workload-type notin (workspace),user notin (shared,U_i)` / `workload-type notin (service,workspace),project!=P_i,user!=shared`; last `workload-type`',
      (i) =>
        i % 2 === 0
          ? `workload-type notin (workspace),user notin (shared@example.com,${user(i)})`
          : `workload-type notin (service,workspace),project!=${proj(i)},user!=shared@example.com`,
      'workload-type',
      (k) => ({ workload_type: k % 4 === 0 ? wt() : 'job', project: someProject(), user: k % 4 === 0 ? someUser() : 'shared@example.com' }),
    ),
    build(
      'numeric-ranges',
      '`project>10i,project<10i+5` (3 in 4) / `user<-i,project!=10i+7`; last `project`',
      (i) => (i % 4 === 3 ? `user<-${i},project!=${10 * i + 7}` : `project>${10 * i},project<${10 * i + 5}`),
      'project',
      (k) => {
        const i = rng.int(n);
        const r = k % 4;
        // Gaps between ranges (last rule wins), other spellings of in-range integers, non-integers.
        const project = r === 0 ? `${10 * i + 7}` : r === 1 ? `+000${10 * i + 2}` : r === 2 ? `${10 * i + 8}` : `p${i}`;
        return { workload_type: wt(), project, user: someUser() };
      },
    ),
    build(
      'absent-and-empty',
      '`!project` / `project in ()` / `!user,workload-type=job` / `workload-type notin (job,service,workspace)` / `user in (),project=P_i` / `project,user notin (),user<0`; last `user`',
      (i) =>
        [
          '!project',
          'project in ()',
          '!user,workload-type=job',
          'workload-type notin (job,service,workspace)',
          `user in (),project=${proj(i)}`,
          'project,user notin (),user<0',
        ][i % 6]!,
      'user',
      () => ({ workload_type: wt(), project: someProject(), user: someUser() }),
    ),
  ];

  // Large value sets drawn from small pools: every value is mentioned by hundreds of rules.
  const userPool = Array.from({ length: 500 }, (_, i) => user(i));
  const projectPool = Array.from({ length: 300 }, (_, i) => proj(i));
  shapes.push({
    name: 'shared-sets',
    shape: '`user in (40 of 500 users),project notin (3 of 300 projects)`; last `user`',
    selectors: Array.from({ length: n }, (_, i) =>
      i === n - 1 ? 'user' : `project notin (${rng.sample(projectPool, 3).join(',')}),user in (${rng.sample(userPool, 40).join(',')})`,
    ),
    launches: Array.from({ length: launchCount }, () => ({
      workload_type: wt(),
      project: rng.pick(projectPool),
      user: rng.next() < 0.5 ? rng.pick(userPool) : `guest${rng.int(1e6)}@example.com`,
    })),
  });

  // Every operator, at random, over pools that launches share partly.
  const ints = Array.from({ length: 50 }, (_, i) => String(i * 7 - 100));
  const pick = (key: 'project' | 'user', pool: readonly string[]): string => {
    const v = rng.pick(pool);
    switch (rng.int(9)) {
      case 0:
        return `${key}=${v}`;
      case 1:
        return `${key}!=${v}`;
      case 2:
        return `${key} in (${rng.sample(pool, 1 + rng.int(4)).join(',')})`;
      case 3:
        return `${key} notin (${rng.sample(pool, 1 + rng.int(4)).join(',')})`;
      case 4:
        return key;
      case 5:
        return `!${key}`;
      case 6:
        return `${key}>${rng.pick(ints)}`;
      case 7:
        return `${key}<${rng.pick(ints)}`;
      default:
        return `${key} notin ()`;
    }
  };
  const wtReq = () => {
    const vs = rng.sample(WORKLOAD_TYPES, 1 + rng.int(2));
    return rng.next() < 0.5 ? `workload-type in (${vs.join(',')})` : `workload-type notin (${vs.join(',')})`;
  };
  const mixUsers = [...Array.from({ length: 200 }, (_, i) => user(i)), ...ints];
  const mixProjects = [...Array.from({ length: 200 }, (_, i) => proj(i)), ...ints];
  shapes.push({
    name: 'random-mix',
    shape: '1–3 random requirements of every operator (=, !=, in, notin, exists, !, gt, lt, notin ()) over shared pools',
    selectors: Array.from({ length: n }, (_, i) => {
      if (i === n - 1) return '';
      const parts = new Map<string, string>();
      const count = 1 + rng.int(3);
      for (let j = 0; j < count; j++) {
        const which = rng.int(3);
        if (which === 0) parts.set('workload-type', wtReq());
        else if (which === 1) parts.set('project', pick('project', mixProjects));
        else parts.set('user', pick('user', mixUsers));
      }
      return [...parts.values()].join(',');
    }),
    launches: Array.from({ length: launchCount }, () => ({
      workload_type: wt(),
      project: rng.next() < 0.7 ? rng.pick(mixProjects) : rng.next() < 0.5 ? `${rng.int(400) - 200}` : `proj-adhoc-${rng.int(1e6)}`,
      user: rng.next() < 0.7 ? rng.pick(mixUsers) : rng.next() < 0.5 ? `+${rng.int(300)}` : `guest${rng.int(1e6)}@example.com`,
    })),
  });
  return shapes;
}
