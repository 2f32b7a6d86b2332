/**
 * Client-side pacing of IAM's mutating calls (adapters/aws/write-pacing.ts): the fixed pace hands
 * out tokens first come, first served at the configured rate (a burst after an idle spell), slows
 * down when IAM throttles anyway and recovers on successes; IAM_WRITE_RATE configures it.
 */
import { describe, expect, it } from 'vitest';
import { FixedRateLimiter, iamWriteRateFromEnv } from '../../adapters/aws/write-pacing.js';

const clock = () => {
  let now = 1000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
};

describe('FixedRateLimiter', () => {
  it('spaces tokens 1/rate apart, in arrival order, whatever the number of callers', () => {
    const c = clock();
    const pace = new FixedRateLimiter(20, { now: c.now });
    const delays = Array.from({ length: 5 }, () => pace.reserve());
    expect(delays).toEqual([0, 50, 100, 150, 200]);
    c.advance(1000); // idle: the next token is immediate again, not a catch-up burst
    expect(pace.reserve()).toBe(0);
    expect(pace.reserve()).toBe(50);
    expect(pace.stats.tokens).toBe(7);
    expect(pace.stats.waitedMs).toBe(550);
  });

  it('lets `burst` tokens through at once after an idle spell, then the rate', () => {
    const c = clock();
    const pace = new FixedRateLimiter(10, { now: c.now, burst: 3 });
    expect(Array.from({ length: 5 }, () => pace.reserve())).toEqual([0, 0, 0, 100, 200]);
  });

  it('a throttling answer lowers the pace (×0.7); successes bring it back to the configured rate', () => {
    const c = clock();
    const pace = new FixedRateLimiter(20, { now: c.now, recoverySuccesses: 10 });
    pace.updateClientSendingRate({ errorType: 'THROTTLING' });
    expect(pace.stats.ratePerSecond).toBeCloseTo(14);
    expect(pace.stats.throttled).toBe(1);
    pace.updateClientSendingRate({ errorType: 'TRANSIENT' }); // not a throttle: recovers
    expect(pace.stats.ratePerSecond).toBeCloseTo(16);
    for (let i = 0; i < 10; i++) pace.updateClientSendingRate({});
    expect(pace.stats.ratePerSecond).toBe(20);
    // Never below the floor, however often IAM throttles.
    for (let i = 0; i < 100; i++) pace.updateClientSendingRate({ errorType: 'THROTTLING' });
    expect(pace.stats.ratePerSecond).toBe(1);
  });

  it('refuses a rate that is not a positive number', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => new FixedRateLimiter(bad)).toThrow(/positive number/);
  });
});

describe('IAM_WRITE_RATE', () => {
  it('is a number of calls per second; unset, empty or 0 means adaptive; anything else is refused, naming the variable', () => {
    expect(iamWriteRateFromEnv({ IAM_WRITE_RATE: '20' })).toBe(20);
    expect(iamWriteRateFromEnv({ IAM_WRITE_RATE: '2.5' })).toBe(2.5);
    expect(iamWriteRateFromEnv({})).toBeUndefined();
    expect(iamWriteRateFromEnv({ IAM_WRITE_RATE: '' })).toBeUndefined();
    expect(iamWriteRateFromEnv({ IAM_WRITE_RATE: '0' })).toBeUndefined();
    expect(() => iamWriteRateFromEnv({ IAM_WRITE_RATE: 'fast' })).toThrow(/IAM_WRITE_RATE/);
    expect(() => iamWriteRateFromEnv({ IAM_WRITE_RATE: '-3' })).toThrow(/IAM_WRITE_RATE/);
  });
});
