/**
 * Cost of one plan (POST …/iam-mapping/plan) at scale: 1,000 service accounts (one role each) over
 * 10 namespaces, put into the sandbox exactly as the plan says, with their inventory records and
 * a SUCCEEDED run (as drift.ts seeds them), then:
 *   1. the same document planned (expect 0 changes),
 *   2. a draft that moves 100 identities to new names (100 × role + policy + ServiceAccount
 *      created, 100 × role + ServiceAccount deleted) and adds a namespace to 10 (10 trust updates,
 *      10 ServiceAccounts created).
 * Reports the wall time through the local server, the target calls by kind (the sandbox's call log)
 * and that none of them mutates. Last line: {"bench":"plan",...}.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateSecret, mintToken } from '../local/auth.js';
import { startLocalServer } from '../local/server.js';
import { roleRef, serviceAccountRef } from '../lib/provisioning/inventory.js';
import { PlanCache } from '../lib/workflow/planning.js';
import { emit, round, runThenExit, seedRole } from './common.js';

process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
const CLOUD = 'cldrsrc_plan_bench';
const NAMESPACES = 10;
const PER_NAMESPACE = 100;
const MOVED = 100;
const WIDENED = 10;

const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `team-${i}`);
const accounts = namespaces.flatMap((ns, i) => Array.from({ length: PER_NAMESPACE }, (_, j) => ({ ns, name: `sa-${i}-${j}` })));

function config(rename = (name: string) => name, extraNamespace = (_name: string): string[] => []) {
  return {
    cloud_deployment_id: CLOUD,
    cloud_provider: 'AWS',
    compute_stack: 'K8S',
    dataplane_iam_mapping: {
      rules: accounts.map((a, k) => ({ selector: `workload-type in (job),user=u${k}@example.com`, value: rename(a.name) })),
      fallback_rule: 'FAIL',
    },
    provisioning: {
      drift: { mode: 'report' },
      service_accounts: Object.fromEntries(accounts.map((a) => [rename(a.name), { namespaces: [a.ns, ...extraNamespace(a.name)] }])),
    },
  };
}

const dataDir = mkdtempSync(join(tmpdir(), 'iam-mapping-bench-plan-'));
const server = await startLocalServer({ port: 0, dataDir, driftIntervalSeconds: 0 });
await runThenExit(server, dataDir, async () => {
  let exitCode = 0;
  const sandbox = server.sandbox!;
  for (const ns of namespaces) sandbox.k8s.createNamespace(ns);
  const owner = await mintToken(loadOrCreateSecret(dataDir), 'owner', 'bench@example.com');
  const plan = async (body: unknown) => {
    const res = await fetch(`${server.url}/v1/clouds/${CLOUD}/iam-mapping/plan`, {
      method: 'POST',
      headers: { authorization: `Bearer ${owner}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`plan: ${res.status} ${text.slice(0, 500)}`);
    return JSON.parse(text) as { summary: { create: number; update: number; delete: number; left_alone: number }; launches: unknown[] };
  };

  const seeded = performance.now();
  const meta = await server.deps.configs.putVersion({ cloudId: CLOUD, document: config(), createdBy: 'bench', ruleCount: accounts.length });
  const planned = await new PlanCache(server.deps.configs, server.drift.clusters, server.drift.defaults).get(CLOUD, meta.version);
  const now = new Date().toISOString();
  for (const item of planned.plan.items) {
    if (item.kind !== 'k8s-irsa') continue;
    const r = item.role;
    const role = seedRole(sandbox, r, server.drift.defaults.permissionsBoundaryArn);
    await server.deps.ownership.putInventory({ ...roleRef(r.name), cloudId: CLOUD, id: role.roleId, recordedAt: now });
    for (const ns of item.serviceAccount.namespaces) {
      const { object } = sandbox.k8s.create('serviceaccounts', ns, {
        metadata: { name: item.serviceAccount.name, annotations: item.annotations, labels: item.labels },
      });
      const uid = (object as { metadata: { uid?: string } }).metadata.uid ?? null;
      await server.deps.ownership.putInventory({
        ...serviceAccountRef(planned.clusters[0]!, ns, item.serviceAccount.name),
        cloudId: CLOUD,
        id: uid,
        recordedAt: now,
      });
    }
  }
  await server.deps.runs.createRun(CLOUD, meta.version);
  await server.deps.runs.updateRun(CLOUD, meta.version, { status: 'SUCCEEDED', finishedAt: now });
  console.log(`seeded ${accounts.length} service accounts / roles over ${NAMESPACES} namespaces in ${round((performance.now() - seeded) / 1000, 1)} s`);

  const measure = async (label: string, body: unknown) => {
    const mark = sandbox.calls.mark();
    const started = performance.now();
    const answer = await plan(body);
    const wallMs = performance.now() - started;
    const calls = sandbox.calls.countsByAction({ sinceSeq: mark });
    const total = Object.values(calls).reduce((a, b) => a + b, 0);
    console.log(
      `${label}: ${JSON.stringify(answer.summary)}, ${answer.launches.length} launches changed, in ${round(wallMs)} ms, ${total} target calls: ${JSON.stringify(calls)}`,
    );
    return {
      wall_ms: round(wallMs),
      summary: answer.summary,
      launches_changed: answer.launches.length,
      api_calls: calls,
      mutating: sandbox.calls.mutatingCount(mark),
    };
  };

  await measure('warm-up', config());
  const same = await measure('unchanged', config());
  const moved = new Set(accounts.slice(0, MOVED).map((a) => a.name));
  const widened = new Set(accounts.slice(MOVED, MOVED + WIDENED).map((a) => a.name));
  const changed = await measure(
    'changed',
    config(
      (name) => (moved.has(name) ? `${name}-v2` : name),
      (name) => (widened.has(name) ? ['team-9'] : []),
    ),
  );
  const want = { create: 3 * MOVED + WIDENED, update: WIDENED, delete: 2 * MOVED, left_alone: 0 };
  const sameOk = same.summary.create + same.summary.update + same.summary.delete + same.summary.left_alone === 0;
  const changedOk = JSON.stringify(changed.summary) === JSON.stringify(want);
  if (!sameOk || !changedOk || same.mutating + changed.mutating !== 0) {
    exitCode = 1;
    console.error(
      `unexpected: unchanged ${JSON.stringify(same.summary)}, changed ${JSON.stringify(changed.summary)} (want ${JSON.stringify(want)}), mutating ${same.mutating + changed.mutating}`,
    );
  }
  emit({
    bench: 'plan',
    service_accounts: accounts.length,
    namespaces: NAMESPACES,
    unchanged: same,
    changed,
    plan_ms: same.wall_ms,
    changed_plan_ms: changed.wall_ms,
  });
  return exitCode;
});
