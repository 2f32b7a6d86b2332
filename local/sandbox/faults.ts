/** Ready-made fault injectors for tests and benchmarks. */
import type { CallInfo, FaultInjector, FaultSpec } from './types.js';

export type CallMatcher = Partial<Pick<CallInfo, 'service' | 'action' | 'mutating'>> | ((call: CallInfo) => boolean);

const matches = (matcher: CallMatcher | undefined, call: CallInfo): boolean => {
  if (matcher === undefined) return true;
  if (typeof matcher === 'function') return matcher(call);
  return Object.entries(matcher).every(([k, v]) => call[k as keyof CallInfo] === v);
};

/** The throttling error each service really returns. */
export function throttlingFor(call: CallInfo): FaultSpec {
  switch (call.service) {
    case 'k8s':
      return { status: 429, code: 'TooManyRequests', message: 'Too many requests, please try again later.', retryAfterSeconds: 1 };
    case 'eks':
      return { status: 429, code: 'ThrottlingException', message: 'Rate exceeded' };
    case 'gcp':
      return { status: 429, code: 'RESOURCE_EXHAUSTED', message: 'Quota exceeded for quota metric and limit of service.' };
    default:
      return { status: 400, code: 'Throttling', message: 'Rate exceeded' };
  }
}

/** The 5xx each service really returns. */
export function serverErrorFor(call: CallInfo): FaultSpec {
  switch (call.service) {
    case 'k8s':
      return { status: 503, code: 'ServiceUnavailable', message: 'the server is currently unable to handle the request' };
    case 'eks':
      return { status: 500, code: 'ServerException', message: 'An internal error occurred' };
    case 'gcp':
      return { status: 503, code: 'UNAVAILABLE', message: 'The service is currently unavailable.' };
    default:
      return { status: 500, code: 'ServiceFailure', message: 'Request processing has failed due to an unknown error.' };
  }
}

export const faults = {
  /** Returns `spec` (or a per-call spec) for the first `times` matching calls. */
  failTimes(times: number, spec: FaultSpec | ((call: CallInfo) => FaultSpec), match?: CallMatcher): FaultInjector {
    let remaining = times;
    return (call) => {
      if (remaining <= 0 || !matches(match, call)) return undefined;
      remaining -= 1;
      return typeof spec === 'function' ? spec(call) : spec;
    };
  },
  /** Throttles the first `times` matching calls (default: all). */
  throttle(match?: CallMatcher, times = Number.POSITIVE_INFINITY): FaultInjector {
    return faults.failTimes(times, throttlingFor, match);
  },
  /** 5xx for the first `times` matching calls (default: all). */
  serverError(match?: CallMatcher, times = Number.POSITIVE_INFINITY): FaultInjector {
    return faults.failTimes(times, serverErrorFor, match);
  },
  /** Fails a deterministic pseudo-random fraction of matching calls (seeded LCG, reproducible). */
  random(rate: number, spec: FaultSpec | ((call: CallInfo) => FaultSpec) = throttlingFor, match?: CallMatcher, seed = 42): FaultInjector {
    let state = seed >>> 0;
    const next = (): number => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state / 2 ** 32;
    };
    return (call) => (matches(match, call) && next() < rate ? (typeof spec === 'function' ? spec(call) : spec) : undefined);
  },
  /**
   * A token bucket of `perSecond` tokens (burst: `burst`, default one second's worth) over the
   * matching calls: a call finding the bucket empty gets the service's throttling answer (IAM:
   * 400 `Throttling`, "Rate exceeded"), as IAM's own API rate limits answer.
   */
  rateLimit(perSecond: number, match?: CallMatcher, burst = Math.max(1, perSecond), now: () => number = () => performance.now()): FaultInjector {
    let tokens = burst;
    let last = now();
    return (call) => {
      if (!matches(match, call)) return undefined;
      const t = now();
      tokens = Math.min(burst, tokens + ((t - last) / 1000) * perSecond);
      last = t;
      if (tokens >= 1) {
        tokens -= 1;
        return undefined;
      }
      return throttlingFor(call);
    };
  },
  /** First injector that returns a fault wins. */
  combine(...injectors: FaultInjector[]): FaultInjector {
    return (call) => {
      for (const inject of injectors) {
        const fault = inject(call);
        if (fault) return fault;
      }
      return undefined;
    };
  },
};
