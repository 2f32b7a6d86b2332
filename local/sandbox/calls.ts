import type { CallRecord, SandboxService } from './types.js';

export interface CallFilter {
  service?: SandboxService;
  action?: string;
  mutating?: boolean;
  /** Only calls with `seq > sinceSeq` (use `calls.mark()` to take a mark). */
  sinceSeq?: number;
  /** Only failed (status >= 400) / only successful calls. */
  failed?: boolean;
}

/** Log of every request the sandbox served, with counters and in-flight (concurrency) tracking. */
export class CallLog {
  private records: CallRecord[] = [];
  private seqCounter = 0;
  private current = 0;
  private peak = 0;

  /** All records, oldest first (a copy). */
  get entries(): CallRecord[] {
    return [...this.records];
  }

  /** Requests currently being served. */
  get inFlight(): number {
    return this.current;
  }

  /** Highest number of concurrently served requests since the last reset / `resetPeak()`. */
  get peakInFlight(): number {
    return this.peak;
  }

  /** Sequence number of the last recorded call; pass to `since()` / `{ sinceSeq }` to look only at later calls. */
  mark(): number {
    return this.seqCounter;
  }

  nextSeq(): number {
    return ++this.seqCounter;
  }

  record(entry: CallRecord): CallRecord {
    this.records.push(entry);
    return entry;
  }

  enter(): void {
    this.current += 1;
    if (this.current > this.peak) this.peak = this.current;
  }

  leave(): void {
    this.current = Math.max(0, this.current - 1);
  }

  filter(filter: CallFilter = {}): CallRecord[] {
    return this.records.filter(
      (r) =>
        (filter.service === undefined || r.service === filter.service) &&
        (filter.action === undefined || r.action === filter.action) &&
        (filter.mutating === undefined || r.mutating === filter.mutating) &&
        (filter.sinceSeq === undefined || r.seq > filter.sinceSeq) &&
        (filter.failed === undefined || (r.status !== undefined && r.status >= 400) === filter.failed),
    );
  }

  since(mark: number): CallRecord[] {
    return this.filter({ sinceSeq: mark });
  }

  count(filter: CallFilter = {}): number {
    return this.filter(filter).length;
  }

  /** Number of mutating calls (optionally only after a mark). */
  mutatingCount(sinceSeq?: number): number {
    return this.count({ mutating: true, sinceSeq });
  }

  /** Counters keyed by `"<service>:<action>"`, e.g. `{ "iam:CreateRole": 2, "k8s:PATCH serviceaccounts": 1 }`. */
  countsByAction(filter: CallFilter = {}): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.filter(filter)) {
      const key = `${r.service}:${r.action}`;
      out[key] = (out[key] ?? 0) + 1;
    }
    return out;
  }

  /** `GET /sandbox/calls?since=N`: every call after sequence number N, in the contract's shape (`caller`: the function it was made for, when known). */
  toJson(since = 0): {
    last: number;
    calls: Array<{ seq: number; service: string; action: string; status: number | null; mutating: boolean; caller?: string }>;
  } {
    return {
      last: this.seqCounter,
      calls: this.filter({ sinceSeq: since }).map((r) => ({
        seq: r.seq,
        service: r.service,
        action: r.action,
        status: r.status ?? null,
        mutating: r.mutating,
        ...(r.caller ? { caller: r.caller } : {}),
      })),
    };
  }

  resetPeak(): void {
    this.peak = this.current;
  }

  /** Clears records, counters and the peak (the sequence restarts at 1). */
  reset(): void {
    this.records = [];
    this.seqCounter = 0;
    this.peak = this.current;
  }
}
