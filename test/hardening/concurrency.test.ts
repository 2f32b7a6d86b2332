/**
 * Issue 5: resolves racing config changes. Version N of the config answers, for the probe launch,
 * rule N % 4 with value `sa-v<N>-r<N % 4>` (every other value also names N), so an answer mixing
 * two versions — a rule index of one and a value of another, or a value not of its
 * `config_version` — is detectable. 200 resolves are in flight at once while each PUT lands;
 * a burst sharing one new `cluster_id` must all get the same (first) answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/local.js';
import { rawClient } from './util.js';

const CLOUD = 'cldrsrc_race';
const MAPPING = `/v1/clouds/${CLOUD}/iam-mapping`;
const IN_FLIGHT = 200;
const PUTS = 10;
const STICKY_PER_WAVE = 20;

/** The config of the version that will be number `n`; more rules in later versions (slower loads). */
function configFor(n: number) {
  const k = n % 4;
  const rules: Array<{ selector: string; value: string }> = [];
  for (let i = 0; i < k; i++) rules.push({ selector: `project=other-${i}`, value: `sa-v${n}-r${i}` });
  rules.push({ selector: 'workload-type=job,project=p', value: `sa-v${n}-r${k}` });
  for (let i = k + 1; i < 100 + n * 40; i++) rules.push({ selector: `user=u${i}@example.com`, value: `sa-v${n}-r${i}` });
  return {
    cloud_deployment_id: CLOUD,
    cloud_provider: 'GCP',
    compute_stack: 'K8S',
    dataplane_iam_mapping: { rules, fallback_rule: 'CLOUD_DEFAULT', default_value: `sa-v${n}-default` },
  };
}

interface Answer {
  value: string;
  source: string;
  rule_index: number | null;
  config_version: number;
  sticky?: boolean;
}

/** Why an answer is not the probe's answer of one whole version (or null). */
function mixed(a: Answer): string | null {
  const n = a.config_version;
  if (!Number.isInteger(n) || n < 1) return `config_version ${n}`;
  if (a.source !== 'RULE') return `source ${a.source}`;
  if (a.rule_index !== n % 4) return `rule_index ${a.rule_index} for version ${n}`;
  if (a.value !== `sa-v${n}-r${n % 4}`) return `value ${a.value} for version ${n}`;
  return null;
}

let h: Harness;
beforeAll(async () => {
  // Every resolve re-reads the latest version (no freshness window): loads race the PUTs.
  h = await startHarness({ resolveFreshnessMs: 0, resolveStaleGraceMs: 0 });
});
afterAll(async () => {
  await h?.stop();
});

describe('resolves while the config changes', () => {
  it(`${IN_FLIGHT} concurrent resolves around each of ${PUTS} PUTs: every answer from one whole version, read-your-writes, sticky answers agree`, async () => {
    const owner = await h.token('owner');
    const cp = await h.token('control-plane');
    const client = rawClient(h.server.port, IN_FLIGHT + 5);
    const put = async (n: number) => {
      const res = await client.send({
        method: 'PUT',
        path: MAPPING,
        headers: { authorization: `Bearer ${owner}`, 'content-type': 'application/json' },
        body: JSON.stringify(configFor(n)),
        label: `PUT v${n}`,
      });
      expect(res.status, res.text).toBe(200);
      const version = JSON.parse(res.text).version as number;
      expect(version).toBe(n);
      return version;
    };
    const resolve = async (clusterId?: string): Promise<Answer> => {
      const res = await client.send({
        method: 'POST',
        path: `${MAPPING}/resolve`,
        headers: { authorization: `Bearer ${cp}`, 'content-type': 'application/json' },
        body: JSON.stringify({ workload_type: 'job', project: 'p', user: 'someone@example.com', ...(clusterId ? { cluster_id: clusterId } : {}) }),
        label: 'resolve',
      });
      expect(res.status, res.text).toBe(200);
      return JSON.parse(res.text) as Answer;
    };

    const started = Date.now();
    let current = await put(1);
    const problems: string[] = [];
    let total = 0;
    let oldAnswers = 0;
    let newAnswers = 0;
    const stickyFirst = new Map<string, Answer>();
    for (let n = 2; n < 2 + PUTS; n++) {
      const previous = current;
      // 200 resolvers keep resolving (one request each in flight) until the PUT has answered; the
      // first 20 share a brand-new cluster id.
      let putDone = false;
      const putting = put(n).finally(() => (putDone = true));
      const streams = await Promise.all(
        Array.from({ length: IN_FLIGHT }, async (_, i) => {
          const mine: Answer[] = [];
          do mine.push(await resolve(i < STICKY_PER_WAVE ? `ses-wave-${n}` : undefined));
          while (!putDone);
          return mine;
        }),
      );
      const version = await putting;
      const answers = streams.flat();
      const sticky = streams.slice(0, STICKY_PER_WAVE).flat();
      total += answers.length;
      current = version;
      answers.forEach((a, i) => {
        if (a.config_version === previous) oldAnswers++;
        else if (a.config_version === current) newAnswers++;
        const why = mixed(a);
        if (why) problems.push(`wave ${n} answer ${i}: ${why} ${JSON.stringify(a)}`);
        if (a.config_version !== previous && a.config_version !== current)
          problems.push(`wave ${n} answer ${i}: version ${a.config_version} is neither ${previous} nor ${current}`);
      });
      const first = sticky[0]!;
      stickyFirst.set(`ses-wave-${n}`, first);
      for (const s of sticky) {
        if (s.value !== first.value || s.config_version !== first.config_version || s.rule_index !== first.rule_index) {
          problems.push(`wave ${n}: cluster ses-wave-${n} got ${JSON.stringify(s)} and ${JSON.stringify(first)}`);
        }
      }
      expect(sticky.filter((s) => s.sticky === false).length, `wave ${n}: exactly one first writer`).toBe(1);
      // Read-your-writes in this process: once the PUT has answered, a resolve sees that version.
      const after = await resolve();
      total++;
      if (after.config_version !== current) problems.push(`wave ${n}: after PUT v${current} a resolve answered v${after.config_version}`);
    }
    // Sticky clusters keep their first answer after every later version.
    for (const [clusterId, first] of stickyFirst) {
      const again = await resolve(clusterId);
      total++;
      expect({ value: again.value, config_version: again.config_version, sticky: again.sticky }).toEqual({
        value: first.value,
        config_version: first.config_version,
        sticky: true,
      });
    }
    client.close();
    console.log(
      `[concurrency] ${JSON.stringify({ resolves: total, duringPutsOld: oldAnswers, duringPutsNew: newAnswers, puts: PUTS + 1, inFlight: IN_FLIGHT, ms: Date.now() - started })}`,
    );
    expect(problems.slice(0, 10), `${problems.length} problems`).toEqual([]);

    // The history holds every version whole.
    const versions = await h.api('GET', `${MAPPING}/versions`, { role: 'viewer' });
    expect(versions.json.versions.map((v: { version: number }) => v.version)).toEqual(Array.from({ length: PUTS + 1 }, (_, i) => PUTS + 1 - i));
    for (const n of [1, 5, PUTS + 1]) {
      const got = await h.api('GET', `${MAPPING}?version=${n}`, { role: 'viewer' });
      const { version, ...doc } = got.json;
      expect(version).toBe(n);
      expect(doc).toEqual(configFor(n));
    }
  });
});
