/**
 * Cost of one drift check at scale: 1,000 service accounts (one role each) over 10 namespaces,
 * put into the sandbox exactly as the plan says plus a SUCCEEDED run record (fast; the converged
 * check finding nothing proves the seed equals what provisioning makes), or with
 * BENCH_DRIFT_PROVISION=workflow by storing the config and letting the workflow run (~2 min), then:
 *   1. a drift check of the converged state (expect 0 findings),
 *   2. the same after an operator tampered with 10 roles and 10 service accounts.
 * Reports the target API calls of each check by kind (sandbox call log), IAM and Kubernetes calls
 * per check, and wall time (HTTP POST /drift-checks through the local server). Goal: ≤ 1 IAM call
 * per 50 roles + a constant (GetAccountAuthorizationDetails pages of 1,000 roles, one
 * ListOpenIDConnectProviders), one Kubernetes LIST per (cluster, namespace) + one per cluster.
 * Last line: {"bench":"drift",...}.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateSecret, mintToken } from '../local/auth.js';
import { startLocalServer } from '../local/server.js';
import { PlanCache } from '../lib/workflow/planning.js';
import { ROLE_ARN_ANNOTATION } from '../lib/provisioning/ownership.js';
import { emit, round, runThenExit, seedRole } from './common.js';
import type { ReplyOf } from '../functions/routes.js';

process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
const CLOUD = 'cldrsrc_drift_bench';
const NAMESPACES = 10;
const PER_NAMESPACE = 100;
const TAMPERED = 10;
const seedDirectly = process.env.BENCH_DRIFT_PROVISION !== 'workflow';

const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `team-${i}`);
const accounts = namespaces.flatMap((ns, i) => Array.from({ length: PER_NAMESPACE }, (_, j) => ({ ns, name: `sa-${i}-${j}` })));

function config() {
  return {
    cloud_deployment_id: CLOUD,
    cloud_provider: 'AWS',
    compute_stack: 'K8S',
    dataplane_iam_mapping: {
      rules: accounts.map((a, k) => ({ selector: `workload-type in (job),user=u${k}@example.com`, value: a.name })),
      fallback_rule: 'FAIL',
    },
    provisioning: {
      drift: { mode: 'report' },
      service_accounts: Object.fromEntries(accounts.map((a) => [a.name, { namespaces: [a.ns] }])),
    },
  };
}

const dataDir = mkdtempSync(join(tmpdir(), 'iam-mapping-bench-drift-'));
const server = await startLocalServer({ port: 0, dataDir, driftIntervalSeconds: 0 });
await runThenExit(server, dataDir, async () => {
  let exitCode = 0;
  const sandbox = server.sandbox!;
  for (const ns of namespaces) sandbox.k8s.createNamespace(ns);
  const owner = await mintToken(loadOrCreateSecret(dataDir), 'owner', 'bench@example.com');
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${owner}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 500)}`);
    return JSON.parse(text);
  };

  const provisionStarted = performance.now();
  let provisionedBy: string;
  if (seedDirectly) {
    provisionedBy = 'seeded';
    const meta = await server.deps.configs.putVersion({ cloudId: CLOUD, document: config(), createdBy: 'bench', ruleCount: accounts.length });
    const planned = await new PlanCache(server.deps.configs, server.drift.clusters, server.drift.defaults).get(CLOUD, meta.version);
    for (const item of planned.plan.items) {
      if (item.kind !== 'k8s-irsa') continue;
      seedRole(sandbox, item.role, server.drift.defaults.permissionsBoundaryArn);
      for (const ns of item.serviceAccount.namespaces) {
        sandbox.k8s.create('serviceaccounts', ns, { metadata: { name: item.serviceAccount.name, annotations: item.annotations, labels: item.labels } });
      }
    }
    await server.deps.runs.createRun(CLOUD, meta.version);
    await server.deps.runs.updateRun(CLOUD, meta.version, { status: 'SUCCEEDED', finishedAt: new Date().toISOString() });
  } else {
    provisionedBy = 'workflow';
    await api('PUT', `/v1/clouds/${CLOUD}/iam-mapping`, config());
    await server.workflow.idle();
    const status = (await api('GET', `/v1/clouds/${CLOUD}/iam-mapping/provisioning`)) as ReplyOf<'provisioningStatus'>;
    if (status.status !== 'SUCCEEDED')
      throw new Error(`provisioning ended ${status.status}: ${JSON.stringify(status.error ?? status.items.find((i) => i.error))}`);
  }
  const provisionMs = performance.now() - provisionStarted;
  console.log(`provisioned ${accounts.length} service accounts / roles over ${NAMESPACES} namespaces (${provisionedBy}) in ${round(provisionMs / 1000, 1)} s`);

  const measure = async (label: string) => {
    const mark = sandbox.calls.mark();
    const started = performance.now();
    const report = await api('POST', `/v1/clouds/${CLOUD}/drift-checks`);
    const wallMs = performance.now() - started;
    const calls = sandbox.calls.countsByAction({ sinceSeq: mark });
    const total = Object.values(calls).reduce((a, b) => a + b, 0);
    const sum = (prefix: string) => Object.entries(calls).reduce((n, [k, v]) => n + (k.startsWith(prefix) ? v : 0), 0);
    const iam = sum('iam:');
    const k8s = sum('k8s:');
    console.log(
      `${label}: ${report.summary.total} findings in ${round(wallMs)} ms, ${total} target calls (IAM ${iam}, Kubernetes ${k8s}): ${JSON.stringify(calls)}`,
    );
    return {
      wall_ms: round(wallMs),
      findings: report.summary.total,
      by_kind: report.summary.by_kind,
      api_calls: calls,
      api_calls_total: total,
      iam_calls: iam,
      k8s_calls: k8s,
      mutating: sandbox.calls.mutatingCount(mark),
    };
  };

  await measure('warm-up');
  const clean = await measure('converged');
  // An operator widens 10 trust policies and re-points 10 service accounts.
  const roles = sandbox.iam.listRoles('/iam-mapping/').slice(0, TAMPERED);
  for (const role of roles) {
    const doc = JSON.parse(role.assumeRolePolicyDocument);
    const cond = doc.Statement[0].Condition;
    const subKey = Object.keys(cond.StringEquals).find((k: string) => k.endsWith(':sub'))!;
    delete cond.StringEquals[subKey];
    cond.StringLike = { [subKey]: 'system:serviceaccount:*:*' };
    sandbox.iam.updateAssumeRolePolicy(role.roleName, JSON.stringify(doc));
  }
  for (const a of accounts.slice(-TAMPERED)) {
    sandbox.k8s.patch('serviceaccounts', a.ns, a.name, 'application/merge-patch+json', {
      metadata: { annotations: { [ROLE_ARN_ANNOTATION]: 'arn:aws:iam::123456789012:role/other' } },
    });
  }
  const drifted = await measure('drifted');
  // ≤ 1 IAM call per 50 roles + 2 (the OIDC provider listing, a short last page).
  const iamBudget = Math.ceil(accounts.length / 50) + 2;
  if (clean.iam_calls > iamBudget || drifted.iam_calls > iamBudget) {
    exitCode = 1;
    console.error(`IAM calls per check ${clean.iam_calls} / ${drifted.iam_calls} exceed the budget of ${iamBudget}`);
  }
  if (clean.findings !== 0 || drifted.findings !== 2 * TAMPERED || clean.mutating + drifted.mutating !== 0) {
    exitCode = 1;
    console.error(
      `unexpected: converged findings ${clean.findings}, drifted findings ${drifted.findings} (want ${2 * TAMPERED}), mutating calls ${clean.mutating + drifted.mutating}`,
    );
  }
  emit({
    bench: 'drift',
    service_accounts: accounts.length,
    roles: accounts.length,
    namespaces: NAMESPACES,
    provisioned_by: provisionedBy,
    provision_s: round(provisionMs / 1000, 1),
    converged: clean,
    drifted,
    iam_calls_per_check: clean.iam_calls,
    k8s_calls_per_check: clean.k8s_calls,
    iam_calls_per_50_roles: round((clean.iam_calls * 50) / accounts.length, 3),
    iam_call_budget: iamBudget,
    check_ms: clean.wall_ms,
  });
  return exitCode;
});
