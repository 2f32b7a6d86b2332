/**
 * Promises kept by key, so concurrent and later callers share one load; a load that rejects is
 * dropped (only if it is still the cached one), so the next call tries again instead of
 * repeating the failure. With a capacity, the oldest entries go first.
 */
export class PromiseCache<K, V> {
  private readonly entries = new Map<K, Promise<V>>();

  constructor(private readonly capacity = Infinity) {}

  get(key: K, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit) return hit;
    const pending = load();
    this.entries.set(key, pending);
    pending.catch(() => {
      if (this.entries.get(key) === pending) this.entries.delete(key);
    });
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as K);
    return pending;
  }

  get size(): number {
    return this.entries.size;
  }
}

/** `load` run once, on first use, and again only after it rejected. */
export function cachedOnce<V>(load: () => Promise<V>): () => Promise<V> {
  const cache = new PromiseCache<true, V>();
  return () => cache.get(true, load);
}
