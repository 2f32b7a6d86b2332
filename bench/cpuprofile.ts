/** Summaries of V8 CPU profiles (from --cpu-prof or the inspector) for the benchmarks' diagnosis. */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** Where a frame's code lives: a package name, a project file, or a V8/Node category. */
export function origin(url: string, functionName: string): string {
  if (!url) return `(${functionName || 'native'})`;
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return url;
  const m = /\/work\/main\/(.+)$/.exec(url) ?? /([^/]+\/[^/]+)$/.exec(url);
  return m ? m[1]! : url;
}

/** Self time (ms) per function and per origin, largest first. */
export function summarize(profile: CpuProfile, top = 15): { total_ms: number; functions: Array<[string, number]>; origins: Array<[string, number]> } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + (deltas[i] ?? 0));
  const fns = new Map<string, number>();
  const origins = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const { functionName, url, lineNumber } = n.callFrame;
    const where = origin(url, functionName);
    const key = `${functionName || '(anonymous)'} ${where}${url ? `:${lineNumber + 1}` : ''}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    origins.set(where, (origins.get(where) ?? 0) + us);
    total += us;
  }
  const sorted = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]): [string, number] => [k, Math.round(v / 100) / 10]);
  return { total_ms: Math.round(total / 1000), functions: sorted(fns), origins: sorted(origins) };
}

/**
 * What ran during a window of the profile (`fromUs`..`toUs` on the profile's clock, i.e.
 * `process.hrtime` in µs): e.g. a stall of the event loop that a timer probe measured. The
 * functions with the most inclusive time in it (every frame of each sample's stack counted once).
 */
export function windowSummary(profile: CpuProfile, fromUs: number, toUs: number, top = 12): Array<[string, number]> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const incl = new Map<string, number>();
  let t = profile.startTime;
  for (let i = 0; i < samples.length; i++) {
    t += deltas[i] ?? 0;
    if (t < fromUs || t > toUs) continue;
    const weight = deltas[i + 1] ?? 0;
    const seen = new Set<string>();
    for (let id: number | undefined = samples[i]; id !== undefined; id = parent.get(id)) {
      const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
      if (functionName === '(root)') continue;
      const key = `${functionName || '(anonymous)'} ${origin(url, functionName)}${url ? `:${lineNumber + 1}` : ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      incl.set(key, (incl.get(key) ?? 0) + weight);
    }
  }
  return [...incl]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, v]): [string, number] => [k, Math.round(v / 100) / 10]);
}
