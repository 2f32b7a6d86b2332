/**
 * The resolution index: for every label key a rule names, which rules each value of that key lets
 * through, as bitsets over the rules (bit r = rule r). A launch's answer is the lowest set bit of
 * the AND of one bitset per key — word by word, stopping at the first non-zero word — so the cost
 * is a few hundred word operations whatever the selectors look like (negations, exists, `!key`,
 * notin, `in ()`, gt/lt, keys the launch does not carry), and exactly the rule a linear
 * first-match scan finds.
 *
 * Per key K (only the rules with a requirement on K are ever 0 in K's bitsets):
 * - `absent`: the rules whose requirements on K hold when the launch has no K;
 * - `unseen`: those that hold for a value of K no rule mentions that is not an integer;
 * - per value mentioned anywhere in a requirement on K: the rules that hold for exactly that
 *   value. It differs from the "unmentioned value" bitset only in the rules mentioning the value,
 *   so a value mentioned by few rules keeps just those (rule, holds?) pairs and is applied onto a
 *   scratch copy at resolve time; a value mentioned by many keeps a full bitset;
 * - gt/lt: a rule's numeric requirements on K allow an interval of integers, so over the integers
 *   the rules switch on at the interval's start and off after its end. These switch events are
 *   sorted, and the state is stored every `step` events (√events of them), so the bitset for any
 *   integer value — mentioned or not, written `5`, `+5` or `005` — is a stored state plus at most
 *   `step` events. Non-integer values fail every gt/lt requirement (the `unseen` bitset).
 *
 * Pure: no SDK, no I/O. Built once per config version (see compile.ts).
 */
import { parseInt64, type Labels, type Requirement, type Selector } from '../selector/index.js';

/** A bitset over the rules, 32 rules per word; bits at and past the rule count are always 0. */
type Bits = Int32Array;

interface NumericTable {
  /** Ascending integer coordinates of the switch events (number when safe, else bigint). */
  coords: (number | bigint)[];
  /** Per event: rule r switches on (r) or off (~r) at coords[i]. */
  events: Int32Array;
  /** checkpoints[j]: the bitset after the first j·step events. */
  checkpoints: Bits[];
  step: number;
}

export interface KeyTable {
  key: string;
  absent: Bits;
  unseen: Bits;
  /**
   * Mentioned value → entry e. e ≥ 0: sparse, the ops `ops[starts[e] .. starts[e+1])` (rule r
   * holds for the value: r; fails: ~r) applied onto the bitset of an unmentioned value that is
   * `ints[e]` (its integer reading, when the key has gt/lt rules). e < 0: `dense[~e]`.
   */
  values: Map<string, number>;
  starts: Int32Array;
  ops: Int32Array;
  ints: (number | bigint | undefined)[] | null;
  dense: Bits[];
  numeric: NumericTable | null;
  /** Reused per resolve (resolution is synchronous; one scratch per key of one compiled config). */
  scratch: Bits;
}

export interface RuleIndex {
  ruleCount: number;
  words: number;
  /** Tables of the launch's three keys (null: no rule names that key, every value lets all through). */
  workloadType: KeyTable | null;
  project: KeyTable | null;
  user: KeyTable | null;
  /** Tables of every other key a rule names (a launch never carries one). */
  extras: KeyTable[];
  /** AND of the extras' `absent` bitsets (all ones when there are none). */
  extrasAbsent: Bits;
  ones: Bits;
}

export interface RuleIndexStats {
  keys: number;
  mentioned_values: number;
  dense_values: number;
  sparse_ops: number;
  numeric_events: number;
  numeric_checkpoints: number;
  /** Bytes of all bitsets, scratch buffers and op/event arrays (the index's typed-array payload). */
  bytes: number;
}

const LAUNCH_KEYS: readonly string[] = ['workload-type', 'project', 'user'];
const EMPTY_LABELS: Labels = Object.freeze(Object.create(null) as Record<string, string>);

function allOnes(ruleCount: number, words: number): Bits {
  const b = new Int32Array(words).fill(-1);
  const tail = ruleCount & 31;
  if (tail !== 0) b[words - 1] = (1 << tail) - 1;
  return b;
}

const setBit = (b: Bits, r: number): void => {
  b[r >>> 5]! |= 1 << (r & 31);
};
const clearBit = (b: Bits, r: number): void => {
  b[r >>> 5]! &= ~(1 << (r & 31));
};
/** Applies one op/event: r ≥ 0 sets bit r, ~r clears it. */
const apply = (b: Bits, op: number): void => (op >= 0 ? setBit(b, op) : clearBit(b, ~op));

const holdsAll = (reqs: readonly Requirement[], labels: Labels) => {
  for (const r of reqs) if (!r.matcher(labels)) return false;
  return true;
};
const asCoord = (x: bigint): number | bigint => (x >= -9007199254740991n && x <= 9007199254740991n ? Number(x) : x);

/**
 * K's table. `rules` ascending: the rules with a requirement on K; `reqs[j]`: rule `rules[j]`'s
 * requirements on K.
 */
function buildTable(key: string, rules: readonly number[], reqs: readonly (readonly Requirement[])[], ruleCount: number, words: number): KeyTable {
  const ones = allOnes(ruleCount, words);

  // Per rule j on K: how many `=`/`in` requirements it has (a present value must be in each),
  // whether it has `!K` (no present value passes), and its gt/lt interval [lo, hi] (null: open).
  const positives = new Int32Array(rules.length);
  const forbidsKey = new Uint8Array(rules.length);
  const hasNumeric = new Uint8Array(rules.length);
  const lows: (bigint | null)[] = new Array<bigint | null>(rules.length).fill(null);
  const highs: (bigint | null)[] = new Array<bigint | null>(rules.length).fill(null);
  // Every value a non-numeric requirement on K names → the rules naming it (positions j,
  // ascending) and, per rule, in how many of its `=`/`in` and `!=`/`notin` requirements.
  const mentions = new Map<string, { at: number[]; inPos: number[]; inNeg: number[] }>();
  for (let j = 0; j < rules.length; j++) {
    for (const r of reqs[j]!) {
      const op = r.operator;
      if (op === 'gt' || op === 'lt') {
        hasNumeric[j] = 1;
        const t = BigInt(parseInt64(r.values[0]!)!);
        if (op === 'gt') lows[j] = lows[j] === null || t + 1n > lows[j]! ? t + 1n : lows[j]!;
        else highs[j] = highs[j] === null || t - 1n < highs[j]! ? t - 1n : highs[j]!;
        continue;
      }
      if (op === '!') forbidsKey[j] = 1;
      const positive = op === '=' || op === '==' || op === 'in';
      if (positive) positives[j]!++;
      for (const v of r.values) {
        let m = mentions.get(v);
        if (!m) mentions.set(v, (m = { at: [], inPos: [], inNeg: [] }));
        const last = m.at.length - 1;
        if (last < 0 || m.at[last] !== j) {
          m.at.push(j);
          m.inPos.push(positive ? 1 : 0);
          m.inNeg.push(positive ? 0 : 1);
        } else if (positive) m.inPos[last]!++;
        else m.inNeg[last]!++;
      }
    }
  }
  // For a present value v: rule j passes K iff every `=`/`in` of it names v, no `!=`/`notin`
  // names v, it has no `!K`, and v is an integer in its gt/lt interval (when it has one).
  const inInterval = (j: number, int: number | bigint | undefined): boolean => {
    if (hasNumeric[j] === 0) return true;
    if (int === undefined) return false;
    const lo = lows[j]!;
    const hi = highs[j]!;
    return (lo === null || int >= lo) && (hi === null || int <= hi);
  };

  // `absent` and `unseen` come from the requirements' own matchers (a value no rule mentions
  // that is not an integer stands for every such value).
  let sentinel = '\u0000unseen';
  while (mentions.has(sentinel)) sentinel += '\u0000';
  const unseenLabels = Object.assign(Object.create(null) as Record<string, string>, { [key]: sentinel });
  const absent = ones.slice();
  const unseen = ones.slice();
  for (let j = 0; j < rules.length; j++) {
    if (!holdsAll(reqs[j]!, EMPTY_LABELS)) clearBit(absent, rules[j]!);
    if (!holdsAll(reqs[j]!, unseenLabels)) clearBit(unseen, rules[j]!);
  }

  // gt/lt: over the integers (values no rule mentions), rule j switches on at lo and off after hi.
  const switches: Array<{ at: bigint; op: number }> = [];
  const initiallyOn: number[] = [];
  let anyNumeric = false;
  for (let j = 0; j < rules.length; j++) {
    if (hasNumeric[j] === 0) continue;
    anyNumeric = true;
    if (positives[j]! > 0 || forbidsKey[j] === 1) continue; // an unmentioned value fails it anyway
    const lo = lows[j]!;
    const hi = highs[j]!;
    if (lo !== null && hi !== null && lo > hi) continue;
    const rule = rules[j]!;
    if (lo === null) initiallyOn.push(rule);
    else switches.push({ at: lo, op: rule });
    if (hi !== null) switches.push({ at: hi + 1n, op: ~rule });
  }
  let numeric: NumericTable | null = null;
  if (anyNumeric) {
    switches.sort((x, y) => (x.at < y.at ? -1 : x.at > y.at ? 1 : 0));
    const step = Math.max(32, Math.ceil(Math.sqrt(switches.length)));
    const state = unseen.slice();
    for (const r of initiallyOn) setBit(state, r);
    const checkpoints: Bits[] = [state.slice()];
    const events = new Int32Array(switches.length);
    for (let i = 0; i < switches.length; i++) {
      events[i] = switches[i]!.op;
      apply(state, events[i]!);
      if ((i + 1) % step === 0) checkpoints.push(state.slice());
    }
    numeric = { coords: switches.map((x) => asCoord(x.at)), events, checkpoints, step };
  }

  const table: KeyTable = {
    key,
    absent,
    unseen,
    values: new Map(),
    starts: new Int32Array(0),
    ops: new Int32Array(0),
    ints: numeric ? [] : null,
    dense: [],
    numeric,
    scratch: new Int32Array(words),
  };
  // A value mentioned by at least this many rules keeps a full bitset: memory stays ≤ 32 bytes
  // per mention, and applying a sparse entry costs fewer bit operations than this.
  const denseFrom = Math.max(32, words >>> 3);
  const starts: number[] = [0];
  const ops: number[] = [];
  for (const [v, m] of mentions) {
    const int = numeric ? parseInt64(v) : undefined;
    const holds = (i: number): boolean => {
      const j = m.at[i]!;
      return m.inNeg[i] === 0 && forbidsKey[j] === 0 && m.inPos[i] === positives[j] && inInterval(j, int);
    };
    if (m.at.length >= denseFrom) {
      const dense = baseInto(table, int, new Int32Array(words));
      for (let i = 0; i < m.at.length; i++) (holds(i) ? setBit : clearBit)(dense, rules[m.at[i]!]!);
      table.values.set(v, ~table.dense.length);
      table.dense.push(dense);
      continue;
    }
    for (let i = 0; i < m.at.length; i++) ops.push(holds(i) ? rules[m.at[i]!]! : ~rules[m.at[i]!]!);
    table.values.set(v, starts.length - 1);
    starts.push(ops.length);
    table.ints?.push(int);
  }
  table.starts = Int32Array.from(starts);
  table.ops = Int32Array.from(ops);
  return table;
}

/** Copies into `out` the bitset of a value no rule mentions (`int`: the value as an integer). */
function baseInto(t: KeyTable, int: number | bigint | undefined, out: Bits): Bits {
  const numeric = t.numeric;
  if (numeric === null || int === undefined) {
    out.set(t.unseen);
    return out;
  }
  // Number of switch events at or below `int` (mixed number/bigint comparison is exact).
  const coords = numeric.coords;
  let lo = 0;
  let hi = coords.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (coords[mid]! <= int) lo = mid + 1;
    else hi = mid;
  }
  const c = Math.floor(lo / numeric.step);
  out.set(numeric.checkpoints[c]!);
  const events = numeric.events;
  for (let i = c * numeric.step; i < lo; i++) apply(out, events[i]!);
  return out;
}

/** The rules K's requirements let through when the launch's K is `v` (a string). */
export function bitsFor(t: KeyTable, v: string): Bits {
  const e = t.values.get(v);
  if (e === undefined) {
    if (t.numeric === null) return t.unseen;
    const int = parseInt64(v);
    return int === undefined ? t.unseen : baseInto(t, int, t.scratch);
  }
  if (e < 0) return t.dense[~e]!;
  const out = baseInto(t, t.ints === null ? undefined : t.ints[e], t.scratch);
  const ops = t.ops;
  const end = t.starts[e + 1]!;
  for (let i = t.starts[e]!; i < end; i++) apply(out, ops[i]!);
  return out;
}

/** Lowest rule set in all four bitsets, or -1. */
export function lowestCommon(a: Bits, b: Bits, c: Bits, d: Bits, words: number): number {
  for (let w = 0; w < words; w++) {
    const x = a[w]! & b[w]! & c[w]! & d[w]!;
    if (x !== 0) return (w << 5) | (31 - Math.clz32(x & -x));
  }
  return -1;
}

export function buildRuleIndex(selectors: readonly Selector[]): RuleIndex {
  const ruleCount = selectors.length;
  const words = (ruleCount + 31) >>> 5;
  const byKey = new Map<string, { rules: number[]; reqs: Requirement[][] }>();
  for (let i = 0; i < ruleCount; i++) {
    for (const r of selectors[i]!.requirements) {
      let group = byKey.get(r.key);
      if (!group) byKey.set(r.key, (group = { rules: [], reqs: [] }));
      if (group.rules[group.rules.length - 1] === i) group.reqs[group.reqs.length - 1]!.push(r);
      else {
        group.rules.push(i);
        group.reqs.push([r]);
      }
    }
  }
  const tables = new Map<string, KeyTable>();
  for (const [key, g] of byKey) tables.set(key, buildTable(key, g.rules, g.reqs, ruleCount, words));
  const ones = allOnes(ruleCount, words);
  const extras = [...tables.values()].filter((t) => !LAUNCH_KEYS.includes(t.key));
  const extrasAbsent = ones.slice();
  for (const t of extras) for (let w = 0; w < words; w++) extrasAbsent[w]! &= t.absent[w]!;
  return {
    ruleCount,
    words,
    workloadType: tables.get('workload-type') ?? null,
    project: tables.get('project') ?? null,
    user: tables.get('user') ?? null,
    extras,
    extrasAbsent,
    ones,
  };
}

/** First rule matching a launch (its three labels; nothing else present), or -1. */
export function firstMatchLaunch(ix: RuleIndex, workloadType: string, project: string, user: string): number {
  const a = ix.workloadType === null ? ix.ones : bitsFor(ix.workloadType, workloadType);
  const b = ix.project === null ? ix.ones : bitsFor(ix.project, project);
  const c = ix.user === null ? ix.ones : bitsFor(ix.user, user);
  return lowestCommon(a, b, c, ix.extrasAbsent, ix.words);
}

/** First rule matching any label set (a label counts when its value is a string), or -1. */
export function firstMatchLabels(ix: RuleIndex, labels: Labels): number {
  const pick = (t: KeyTable | null): Bits => {
    if (t === null) return ix.ones;
    const v = labels[t.key];
    return typeof v === 'string' ? bitsFor(t, v) : t.absent;
  };
  const a = pick(ix.workloadType);
  const b = pick(ix.project);
  const c = pick(ix.user);
  let d = ix.extrasAbsent;
  if (ix.extras.some((t) => typeof labels[t.key] === 'string')) {
    // Rare (the schema allows only the three launch keys): AND each extra key's own bitset.
    d = ix.ones.slice();
    for (const t of ix.extras) {
      const bits = pick(t);
      for (let w = 0; w < ix.words; w++) d[w]! &= bits[w]!;
    }
  }
  return lowestCommon(a, b, c, d, ix.words);
}

export function ruleIndexStats(ix: RuleIndex): RuleIndexStats {
  const stats: RuleIndexStats = { keys: 0, mentioned_values: 0, dense_values: 0, sparse_ops: 0, numeric_events: 0, numeric_checkpoints: 0, bytes: 0 };
  stats.bytes += ix.ones.byteLength + ix.extrasAbsent.byteLength;
  for (const t of [ix.workloadType, ix.project, ix.user, ...ix.extras]) {
    if (t === null) continue;
    stats.keys++;
    stats.bytes += t.absent.byteLength + t.unseen.byteLength + t.scratch.byteLength;
    stats.mentioned_values += t.values.size;
    stats.dense_values += t.dense.length;
    stats.sparse_ops += t.ops.length;
    stats.bytes += t.starts.byteLength + t.ops.byteLength + t.dense.reduce((n, b) => n + b.byteLength, 0);
    if (t.numeric) {
      stats.numeric_events += t.numeric.events.length;
      stats.numeric_checkpoints += t.numeric.checkpoints.length;
      stats.bytes += t.numeric.events.byteLength + t.numeric.checkpoints.reduce((n, b) => n + b.byteLength, 0);
    }
  }
  return stats;
}
