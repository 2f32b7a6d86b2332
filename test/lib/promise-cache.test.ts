import { describe, expect, it } from 'vitest';
import { cachedOnce, PromiseCache } from '../../lib/promise-cache.js';

describe('PromiseCache', () => {
  it('shares one load per key between concurrent and later callers', async () => {
    const cache = new PromiseCache<string, number>();
    let loads = 0;
    const load = async () => ++loads;
    const [a, b] = await Promise.all([cache.get('k', load), cache.get('k', load)]);
    expect([a, b, await cache.get('k', load), loads]).toEqual([1, 1, 1, 1]);
    expect(await cache.get('other', load)).toBe(2);
  });

  it('drops a rejected load, so the next call tries again', async () => {
    const cache = new PromiseCache<string, string>();
    let calls = 0;
    const flaky = async () => {
      if (++calls === 1) throw new Error('down');
      return 'up';
    };
    await expect(cache.get('k', flaky)).rejects.toThrow('down');
    expect(cache.size).toBe(0);
    expect(await cache.get('k', flaky)).toBe('up');
    expect(await cache.get('k', flaky)).toBe('up');
    expect(calls).toBe(2);
  });

  it('a late rejection does not drop a newer entry of the same key', async () => {
    const cache = new PromiseCache<string, string>(1);
    let fail!: (e: Error) => void;
    const first = cache.get('a', () => new Promise<string>((_, reject) => (fail = reject)));
    await cache.get('b', async () => 'b'); // evicts a (capacity 1)
    const second = cache.get('a', async () => 'a2'); // evicts b
    fail(new Error('late'));
    await expect(first).rejects.toThrow('late');
    expect(await second).toBe('a2');
    expect(await cache.get('a', async () => 'a3')).toBe('a2');
  });

  it('keeps at most `capacity` entries, dropping the oldest', async () => {
    const cache = new PromiseCache<number, number>(2);
    for (const k of [1, 2, 3]) await cache.get(k, async () => k * 10);
    expect(cache.size).toBe(2);
    expect(await cache.get(1, async () => -1)).toBe(-1);
  });
});

describe('cachedOnce', () => {
  it('loads on first use, again only after a rejection', async () => {
    let calls = 0;
    const once = cachedOnce(async () => {
      calls++;
      if (calls === 1) throw new Error('first fails');
      return calls;
    });
    await expect(once()).rejects.toThrow('first fails');
    expect(await once()).toBe(2);
    expect(await once()).toBe(2);
  });
});
