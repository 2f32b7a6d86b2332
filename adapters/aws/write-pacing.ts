/**
 * Client-side pacing of IAM's mutating calls, so the service does not drive IAM into throttling.
 *
 * IAM limits the rate of mutating calls per account (CreateRole, PutRolePolicy, TagRole, …). A
 * throttled write costs a round trip, a retry with back-off and, once the SDK's retries are
 * spent, a Step Functions Retry (seconds of full-jitter sleep while the quota idles). So every
 * attempt of a mutating call first takes a send token here, through the SDK's own hook for this:
 * the AdaptiveRetryStrategy asks its `rateLimiter` for a token before each attempt (the first and
 * every retry) and reports each answer to it.
 *
 * - With a configured rate (`IAM_WRITE_RATE`, calls per second): a fixed pace (a GCRA token
 *   bucket, `burst` tokens), lowered multiplicatively when IAM throttles anyway (another client
 *   of the account spends the same quota) and raised back additively on successes (AIMD).
 * - Without: the SDK's DefaultRateLimiter (CUBIC), which starts unpaced and learns the rate
 *   from the throttling answers it gets.
 *
 * The pace is per process, i.e. per IamPort: under `npm start` that is the whole service; a
 * deployed Lambda runs one invocation per container at a time, so there it is per container (see
 * the README: at most as many containers write at once as items are in flight).
 */
import { AdaptiveRetryStrategy, DefaultRateLimiter } from '@smithy/core/retry';
import type { RetryErrorInfo, RetryStrategyV2 } from '@smithy/types';

/** What the SDK's AdaptiveRetryStrategy calls: before each attempt, and with each answer. */
export interface SendRateLimiter {
  getSendToken(): Promise<void>;
  updateClientSendingRate(response: unknown): void;
}

export interface PacerStats {
  /** Tokens handed out (attempts of mutating calls). */
  tokens: number;
  /** Throttling answers reported by the SDK. */
  throttled: number;
  /** Total time callers waited for a token (ms). */
  waitedMs: number;
  /** The pace now (calls per second). */
  ratePerSecond: number;
}

const isThrottling = (response: unknown): boolean => (response as Partial<RetryErrorInfo> | undefined)?.errorType === 'THROTTLING';

/**
 * A fixed pace of `ratePerSecond` tokens (first come, first served), at most `burst` at once
 * after an idle spell. A throttling answer multiplies the pace by `decrease` (never below
 * `minRatePerSecond`); each success adds `ratePerSecond / recoverySuccesses` back up to the
 * configured pace.
 */
export class FixedRateLimiter implements SendRateLimiter {
  readonly maxRate: number;
  private rate: number;
  /** Theoretical arrival time of the next token (ms on `now`'s clock). */
  private tat = Number.NEGATIVE_INFINITY;
  private readonly burst: number;
  private readonly now: () => number;
  private readonly decrease: number;
  private readonly minRate: number;
  private readonly recoveryStep: number;
  readonly stats: PacerStats;

  constructor(
    ratePerSecond: number,
    options: { burst?: number; now?: () => number; decrease?: number; minRatePerSecond?: number; recoverySuccesses?: number } = {},
  ) {
    if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) throw new RangeError(`IAM write rate must be a positive number, got ${ratePerSecond}`);
    this.maxRate = ratePerSecond;
    this.rate = ratePerSecond;
    this.burst = Math.max(1, Math.floor(options.burst ?? 1));
    this.now = options.now ?? (() => performance.now());
    this.decrease = options.decrease ?? 0.7;
    this.minRate = Math.min(ratePerSecond, options.minRatePerSecond ?? Math.max(0.5, ratePerSecond / 20));
    this.recoveryStep = ratePerSecond / Math.max(1, options.recoverySuccesses ?? 50);
    this.stats = { tokens: 0, throttled: 0, waitedMs: 0, ratePerSecond };
  }

  /** The delay (ms) before the caller's token; reserves it. */
  reserve(): number {
    const now = this.now();
    const interval = 1000 / this.rate;
    const tat = Math.max(this.tat, now);
    const sendAt = Math.max(now, tat - (this.burst - 1) * interval);
    this.tat = tat + interval;
    this.stats.tokens += 1;
    this.stats.waitedMs += sendAt - now;
    return sendAt - now;
  }

  async getSendToken(): Promise<void> {
    const delay = this.reserve();
    if (delay > 0) await new Promise<void>((resolve) => setTimeout(resolve, delay));
  }

  updateClientSendingRate(response: unknown): void {
    if (isThrottling(response)) {
      this.stats.throttled += 1;
      this.rate = Math.max(this.minRate, this.rate * this.decrease);
    } else if (this.rate < this.maxRate) {
      this.rate = Math.min(this.maxRate, this.rate + this.recoveryStep);
    }
    this.stats.ratePerSecond = this.rate;
  }
}

/**
 * The SDK retry strategy for mutating IAM calls: the SDK's adaptive strategy (its back-off and
 * retry quota, `maxAttempts` attempts) over `limiter` (default: the SDK's own CUBIC limiter).
 */
export function pacedRetryStrategy(maxAttempts: number, limiter?: SendRateLimiter): RetryStrategyV2 {
  return new AdaptiveRetryStrategy(maxAttempts, { rateLimiter: limiter ?? new DefaultRateLimiter() });
}

/** `IAM_WRITE_RATE`: mutating IAM calls per second this process may make; unset, empty or 0 = learn it (adaptive). */
export function iamWriteRateFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env.IAM_WRITE_RATE?.trim();
  if (!raw) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`IAM_WRITE_RATE must be a non-negative number of calls per second, got ${JSON.stringify(raw)}`);
  return n > 0 ? n : undefined;
}
