/**
 * ResolutionService caching: answers from memory within the freshness window, stale-while-
 * revalidate for at most the grace after it, a wait (and the store's error) past that, and
 * immediate invalidation after a PUT in the same process.
 */
import { describe, expect, it } from 'vitest';
import type { ConfigStore, StickyStore, StoredConfigVersion, VersionMeta } from '../../lib/ports.js';
import { ResolutionService } from '../../lib/resolution/service.js';

const CLOUD = 'cldrsrc_cache';
const launch = { workload_type: 'job', project: 'p', user: 'u@example.com' } as const;

function doc(value: string) {
  return {
    cloud_deployment_id: CLOUD,
    cloud_provider: 'AWS',
    compute_stack: 'K8S',
    dataplane_iam_mapping: { rules: [{ selector: 'workload-type=job', value }], fallback_rule: 'FAIL' },
  };
}

/** A store whose latest version can be changed, made to fail, or held (the read waits until released). */
class ControlledStore implements ConfigStore {
  versions: StoredConfigVersion[] = [];
  reads = 0;
  failing = false;
  private held: Array<() => void> | undefined;

  add(value: string): void {
    const version = this.versions.length + 1;
    this.versions.push({
      cloudId: CLOUD,
      version,
      etag: `"${version}"`,
      createdAt: '',
      createdBy: '',
      contentHash: '',
      ruleCount: 1,
      sizeBytes: 0,
      document: doc(value),
    });
  }
  hold(): void {
    this.held = [];
  }
  release(): void {
    const waiting = this.held ?? [];
    this.held = undefined;
    for (const go of waiting) go();
  }
  async getLatestMeta(): Promise<VersionMeta | null> {
    this.reads++;
    if (this.held) await new Promise<void>((r) => this.held!.push(r));
    if (this.failing) throw new Error('store unavailable');
    return this.versions.at(-1) ?? null;
  }
  async getVersion(_cloudId: string, version?: number): Promise<StoredConfigVersion | null> {
    return this.versions.find((v) => v.version === version) ?? null;
  }
  putVersion(): Promise<VersionMeta> {
    throw new Error('not used');
  }
  listVersions(): Promise<VersionMeta[]> {
    throw new Error('not used');
  }
  listClouds(): Promise<string[]> {
    throw new Error('not used');
  }
}

const noSticky: StickyStore = {
  getSticky: async () => null,
  putStickyIfAbsent: async (_c, _k, r) => r,
  listSticky: async () => [],
  deleteSticky: async () => false,
};

function setup() {
  const store = new ControlledStore();
  let now = 1_000_000;
  const service = new ResolutionService(store, noSticky, { freshnessMs: 1000, staleGraceMs: 2000, now: () => now });
  return { store, service, advance: (ms: number) => (now += ms) };
}

describe('ResolutionService caching', () => {
  it('answers from memory within the freshness window: one store read', async () => {
    const { store, service, advance } = setup();
    store.add('sa-1');
    expect((await service.resolve(CLOUD, launch)).value).toBe('sa-1');
    advance(999);
    store.add('sa-2');
    expect((await service.resolve(CLOUD, launch)).value).toBe('sa-1');
    expect(store.reads).toBe(1);
  });

  it('after the window: answers from memory while one re-check runs, then from the new version', async () => {
    const { store, service, advance } = setup();
    store.add('sa-1');
    await service.resolve(CLOUD, launch);
    store.add('sa-2');
    advance(1500);
    store.hold();
    const during = await Promise.all([service.resolve(CLOUD, launch), service.resolve(CLOUD, launch), service.resolve(CLOUD, launch)]);
    expect(during.map((a) => [a.value, a.config_version])).toEqual([
      ['sa-1', 1],
      ['sa-1', 1],
      ['sa-1', 1],
    ]);
    expect(store.reads).toBe(2); // one re-check for all of them
    store.release();
    await new Promise((r) => setTimeout(r, 0));
    const after = await service.resolve(CLOUD, launch);
    expect([after.value, after.config_version]).toEqual(['sa-2', 2]);
  });

  it('past the grace: requests wait for the re-check, and a store failure reaches them', async () => {
    const { store, service, advance } = setup();
    store.add('sa-1');
    await service.resolve(CLOUD, launch);
    store.failing = true;
    advance(1500);
    expect((await service.resolve(CLOUD, launch)).value).toBe('sa-1'); // in grace: background re-check fails quietly
    await new Promise((r) => setTimeout(r, 0));
    advance(1600); // 3.1 s since the last successful check
    await expect(service.resolve(CLOUD, launch)).rejects.toThrow('store unavailable');
    store.failing = false;
    store.add('sa-2');
    expect((await service.resolve(CLOUD, launch)).value).toBe('sa-2');
  });

  it('invalidate (a PUT in this process) makes the next answer read the store at once', async () => {
    const { store, service } = setup();
    store.add('sa-1');
    await service.resolve(CLOUD, launch);
    store.add('sa-2');
    service.invalidate(CLOUD);
    expect((await service.resolve(CLOUD, launch)).value).toBe('sa-2');
  });

  it('a cloud without config is NOT_FOUND, re-checked after the window', async () => {
    const { store, service, advance } = setup();
    await expect(service.resolve(CLOUD, launch)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    store.add('sa-1');
    await expect(service.resolve(CLOUD, launch)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    advance(1000);
    expect((await service.resolve(CLOUD, launch)).value).toBe('sa-1');
  });
});
