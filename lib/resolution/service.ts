/**
 * The resolution service of the hot path. Each warm process keeps the compiled config of each
 * cloud; within `freshnessMs` an answer needs no store access at all; after it, one consistent
 * read of the latest version's metadata decides whether to keep the compiled config or load and
 * compile the new version (one load per version, shared by concurrent callers). Every answer comes
 * from one whole version and says which (`config_version`). With `cluster_id`, the first answer
 * for that cluster is kept (conditional write, first writer wins) and returned again later.
 */
import { randomUUID } from 'node:crypto';
import { AppError } from '../errors.js';
import type { ConfigStore, StickyResolution, StickyStore } from '../ports.js';
import { parseStoredConfig } from '../stored.js';
import { compileConfig, type CompiledConfig } from './compile.js';
import { explain, resolve, type Launch, type Resolution, type TraceEntry } from './resolve.js';

export interface ResolutionServiceOptions {
  /** How long a process may answer from its compiled config before re-checking the latest version. */
  freshnessMs?: number;
  /** After freshnessMs, how much longer the compiled config may answer while its re-check runs. */
  staleGraceMs?: number;
  /** Clouds kept compiled per process (least recently used are dropped). */
  maxClouds?: number;
  now?: () => number;
}

export interface ResolveInput extends Launch {
  cluster_id?: string;
}

export type ResolveOutput = Resolution & {
  trace?: TraceEntry[];
  sticky?: boolean;
  cluster_id?: string;
  resolved_at?: string;
};

interface Entry {
  compiled: CompiledConfig | null;
  checkedAt: number;
  pending?: Promise<CompiledConfig | null>;
}

export class ResolutionService {
  private readonly cache = new Map<string, Entry>();
  private readonly freshnessMs: number;
  private readonly staleGraceMs: number;
  private readonly maxClouds: number;
  private readonly now: () => number;
  /** The cloud last moved to the end of the LRU order (a touch of it again changes nothing). */
  private mostRecent: string | undefined;

  constructor(
    private readonly configs: ConfigStore,
    private readonly sticky: StickyStore,
    options: ResolutionServiceOptions = {},
  ) {
    this.freshnessMs = options.freshnessMs ?? 1_000;
    this.staleGraceMs = options.staleGraceMs ?? 2_000;
    this.maxClouds = options.maxClouds ?? 512;
    this.now = options.now ?? Date.now;
  }

  /** Forget what this process knows about a cloud (called after a PUT in the same process). */
  invalidate(cloudId: string): void {
    if (this.mostRecent === cloudId) this.mostRecent = undefined;
    this.cache.delete(cloudId);
  }

  async resolve(cloudId: string, input: ResolveInput, options: { explain?: boolean } = {}): Promise<ResolveOutput> {
    if (input.cluster_id !== undefined) {
      const kept = await this.sticky.getSticky(cloudId, input.cluster_id);
      if (kept) return this.fromSticky(kept, input.cluster_id, options.explain === true);
    }
    const compiled = this.fresh(cloudId) ?? (await this.compiled(cloudId));
    const launch = { workload_type: input.workload_type, project: input.project, user: input.user };
    const answer: ResolveOutput = options.explain ? explain(compiled, launch) : resolve(compiled, launch);
    if (input.cluster_id === undefined) return answer;

    // The write id tells this request's record from an equal one a concurrent request stored in
    // the same millisecond (comparing contents, both would report `sticky: false`).
    const record: StickyResolution & { write_id: string } = {
      value: answer.value,
      source: answer.source,
      rule_index: answer.rule_index,
      config_version: answer.config_version,
      resolved_at: new Date(this.now()).toISOString(),
      ...launch,
      write_id: randomUUID(),
    };
    const stored = await this.sticky.putStickyIfAbsent(cloudId, input.cluster_id, record);
    if ((stored as Partial<typeof record>).write_id !== record.write_id) {
      return this.fromSticky(stored, input.cluster_id, options.explain === true); // another request won the race
    }
    return { ...answer, cluster_id: input.cluster_id, sticky: false, resolved_at: record.resolved_at };
  }

  private fromSticky(kept: StickyResolution, clusterId: string, withTrace: boolean): ResolveOutput {
    const out: ResolveOutput = {
      value: kept.value,
      source: kept.source,
      rule_index: kept.rule_index,
      config_version: kept.config_version,
      cluster_id: clusterId,
      sticky: true,
      resolved_at: kept.resolved_at,
    };
    if (withTrace) out.trace = [];
    return out;
  }

  /**
   * The compiled latest config of a cloud (NOT_FOUND when it has none). Within `freshnessMs` of
   * the last check it is answered from memory. After that, the first request starts one re-check
   * (a consistent read of the latest version) and — stale-while-revalidate — requests keep being
   * answered from the version in memory while it runs, for at most `staleGraceMs` more; past
   * that they wait for the re-check (and fail with it if the store is down). So no request waits
   * on the store in steady state, and an answer is never older than
   * freshnessMs + staleGraceMs.
   */
  /** The compiled config when it is within `freshnessMs` (the steady state: no promise, no store). */
  private fresh(cloudId: string): CompiledConfig | undefined {
    const entry = this.cache.get(cloudId);
    if (!entry?.compiled || this.now() - entry.checkedAt >= this.freshnessMs) return undefined;
    this.touch(cloudId, entry);
    return entry.compiled;
  }

  async compiled(cloudId: string): Promise<CompiledConfig> {
    const now = this.now();
    let entry = this.cache.get(cloudId);
    if (entry && entry.compiled) {
      const age = now - entry.checkedAt;
      if (age < this.freshnessMs) {
        this.touch(cloudId, entry);
        return entry.compiled;
      }
      if (age < this.freshnessMs + this.staleGraceMs) {
        this.touch(cloudId, entry);
        if (!entry.pending) this.startRefresh(cloudId, entry).catch(() => undefined); // the next request past the grace sees the error
        return entry.compiled;
      }
    } else if (entry && !entry.pending && now - entry.checkedAt < this.freshnessMs) {
      return found(cloudId, entry.compiled); // known to have no config
    }
    if (!entry) {
      entry = { compiled: null, checkedAt: 0 };
      this.cache.set(cloudId, entry);
      this.mostRecent = cloudId;
      this.evict();
    }
    return found(cloudId, await (entry.pending ?? this.startRefresh(cloudId, entry)));
  }

  private startRefresh(cloudId: string, entry: Entry): Promise<CompiledConfig | null> {
    const pending = this.refresh(cloudId, entry.compiled).then(
      (compiled) => {
        entry.compiled = compiled;
        entry.checkedAt = this.now();
        entry.pending = undefined;
        return compiled;
      },
      (err: unknown) => {
        entry.pending = undefined;
        throw err;
      },
    );
    entry.pending = pending;
    return pending;
  }

  private async refresh(cloudId: string, current: CompiledConfig | null): Promise<CompiledConfig | null> {
    const meta = await this.configs.getLatestMeta(cloudId);
    if (!meta) return null;
    if (current && current.version === meta.version) return current;
    const stored = await this.configs.getVersion(cloudId, meta.version);
    if (!stored) return null;
    return compileConfig(parseStoredConfig(stored), { version: stored.version, etag: stored.etag });
  }

  private touch(cloudId: string, entry: Entry): void {
    if (this.mostRecent === cloudId) return; // already last
    this.cache.delete(cloudId);
    this.cache.set(cloudId, entry);
    this.mostRecent = cloudId;
  }

  private evict(): void {
    while (this.cache.size > this.maxClouds) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) return;
      if (oldest === this.mostRecent) this.mostRecent = undefined;
      this.cache.delete(oldest);
    }
  }
}

function found(cloudId: string, compiled: CompiledConfig | null): CompiledConfig {
  if (!compiled) throw new AppError('NOT_FOUND', `cloud ${cloudId} has no IAM mapping config`);
  return compiled;
}
