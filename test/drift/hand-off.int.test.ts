/**
 * An on-demand drift check that outlasts the deadline, through the local server as a client sees
 * it: 202 with Location, the report afterwards at GET …/latest (checked at or after requested_at),
 * the repair done once by the worker, and no report from the withdrawn check. The deadline here is
 * 1 ms, so every check is handed off (the default is 20 s).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run as runCli } from '../../cli/iam-mapping.js';
import { backgroundDriftChecksSchema, driftCheckAcceptedSchema, driftReportSchema } from '../../functions/http/schemas.js';
import { roleNameFor } from '../../lib/provisioning/naming.js';
import { startHarness, type Harness } from '../helpers/local.js';
import { SEED_EXAMPLES } from '../helpers/seeds.js';
import { operator, type Operator } from './operator.js';

const CLOUD = 'cldrsrc_handoff';
const BASE = `/v1/clouds/${CLOUD}`;
const SA = 'kubernetes-service-account-name1';

let h: Harness;
let op: Operator;
beforeAll(async () => {
  h = await startHarness({ driftIntervalSeconds: 0, driftDeadlineMs: 1, workflow: { retryIntervalMs: 5, waitMs: 5 } });
  op = operator(h.server.url, h.server.sandbox!);
  const put = await h.api('PUT', `${BASE}/iam-mapping`, { body: SEED_EXAMPLES.eks.replace('cldrsrc_XXXX', CLOUD) });
  expect(put.status, put.text).toBe(200);
  await h.server.workflow.idle();
});
afterAll(async () => {
  op?.close();
  await h?.stop();
});

/** POST a check of `cloud` on `on`; expect the hand-off's 202 and return its body. */
async function handedOff(body?: unknown, on: Harness = h, cloud = CLOUD) {
  const base = `/v1/clouds/${cloud}`;
  const res = await on.api('POST', `${base}/drift-checks`, body === undefined ? {} : { body, contentType: 'application/json' });
  expect(res.status, res.text).toBe(202);
  const accepted = driftCheckAcceptedSchema.parse(res.json);
  expect(accepted).toMatchObject({ cloud_deployment_id: cloud, status: 'running', report: `${base}/drift-checks/latest` });
  expect(res.headers.get('location')).toBe(accepted.report);
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(5);
  return accepted;
}

/** The report that answers `accepted` (polls GET …/latest as a client would). */
async function reportFor(accepted: { requested_at: string; report: string }, on: Harness = h) {
  return vi.waitFor(
    async () => {
      const res = await on.api('GET', accepted.report, { role: 'viewer' });
      expect(res.status, res.text).toBe(200);
      expect(res.json.checked_at >= accepted.requested_at, `${res.json.checked_at} vs ${accepted.requested_at}`).toBe(true);
      return driftReportSchema.parse(res.json);
    },
    { timeout: 30_000, interval: 50 },
  );
}

describe('an on-demand drift check past its deadline', () => {
  it('answers 202; the worker stores the report (once) and repairs what drifted', async () => {
    const roleName = roleNameFor('iam-mapping-', CLOUD, SA);
    const trust = await op.getTrust(roleName);
    trust.Statement[0].Condition.StringLike = { 'x:sub': '*' };
    await op.putTrust(roleName, trust);

    const accepted = await handedOff({ repair: true });
    const report = await reportFor(accepted);
    expect(report).toMatchObject({ trigger: 'api', status: 'drifted' });
    expect(report.findings.map((f) => f.name)).toContain(roleName);
    expect(report.repair?.items.length).toBeGreaterThan(0);
    await h.server.workflow.idle();

    // The withdrawn first attempt wrote nothing: one report in the history.
    const history = await h.api('GET', `${BASE}/drift-checks`, { role: 'viewer' });
    expect(history.json.reports).toHaveLength(1);

    const again = await reportFor(await handedOff());
    expect(again.status, JSON.stringify(again.findings)).toBe('clean');
    expect((await h.api('GET', `${BASE}/drift-checks`, { role: 'viewer' })).json.reports).toHaveLength(2);
  });

  it('a bad body is still a 400 naming the field, before any check starts', async () => {
    const res = await h.api('POST', `${BASE}/drift-checks`, { body: { repair: 'yes' }, contentType: 'application/json' });
    expect(res.status).toBe(400);
    expect(res.json.error.details[0].path).toBe('repair');
  });
});

describe('stopping the server while a handed-off check runs', () => {
  it('withdraws it before its first write: no report, and the server stops promptly', async () => {
    const local = await startHarness({ driftIntervalSeconds: 0, driftDeadlineMs: 1, workflow: { retryIntervalMs: 5, waitMs: 5 } });
    try {
      const cloud = 'cldrsrc_handoff_stop';
      expect((await local.api('PUT', `/v1/clouds/${cloud}/iam-mapping`, { body: SEED_EXAMPLES.eks.replace('cldrsrc_XXXX', cloud) })).status).toBe(200);
      await local.server.workflow.idle();
      local.server.sandbox!.setLatency(200); // the background check is still reading when the server stops
      const first = await handedOff(undefined, local, cloud);
      const started = Date.now();
      await local.server.close();
      expect(Date.now() - started, 'stops within its reads, not a whole check').toBeLessThan(10_000);
      // The store (the server's dynalite) stops with it: look after a restart.
      await local.restart();
      local.server.sandbox!.setLatency(0);
      expect((await local.api('GET', `/v1/clouds/${cloud}/drift-checks`, { role: 'viewer' })).json.reports).toEqual([]);
      // Its slot was freed: the next request is a check of its own (not joined to the withdrawn one), and is answered.
      const again = await handedOff(undefined, local, cloud);
      expect(again.requested_at > first.requested_at).toBe(true);
      expect(again.message).not.toMatch(/already running/);
      expect((await reportFor(again, local)).trigger).toBe('api');
    } finally {
      await local.stop();
    }
  });
});

describe('a handed-off check that fails in the background', () => {
  it('is listed failed with why; the CLI stops waiting and says so', async () => {
    // The worker cannot read IAM (AccessDenied on the bulk read): its check fails, no report is stored.
    h.server.sandbox!.setFaults((call) =>
      call.action === 'GetAccountAuthorizationDetails' ? { status: 403, code: 'AccessDenied', message: 'not authorized' } : undefined,
    );
    try {
      const accepted = await handedOff({ repair: false });
      const failed = await vi.waitFor(
        async () => {
          const res = await h.api('GET', `${BASE}/drift-checks/background`, { role: 'viewer' });
          expect(res.status, res.text).toBe(200);
          const parsed = backgroundDriftChecksSchema.parse(res.json);
          const check = parsed.checks.find((c) => c.requested_at === accepted.requested_at);
          expect(check?.status).toBe('failed');
          return check!;
        },
        { timeout: 30_000, interval: 50 },
      );
      expect(failed).toMatchObject({ repair: false, error: expect.stringMatching(/AccessDenied/) });
      expect((await h.api('GET', `${BASE}/drift-checks/latest`, { role: 'viewer' })).json.checked_at < accepted.requested_at).toBe(true);

      const home = mkdtempSync(join(tmpdir(), 'hand-off-cli-failed-'));
      try {
        let stdout = '';
        let stderr = '';
        const env = { HOME: home, XDG_STATE_HOME: join(home, 'state'), IAM_MAPPING_ENDPOINT: h.server.url, IAM_MAPPING_TOKEN: await h.token('owner') };
        const code = await runCli(['drift', 'check', '-n', CLOUD], { out: (t) => void (stdout += t), err: (t) => void (stderr += t), env });
        expect(code, stdout + stderr).toBe(6);
        expect(stderr).toMatch(/failed in the background: .*AccessDenied/);
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    } finally {
      h.server.sandbox!.setFaults(undefined);
    }
  });
});

describe('the CLI, when the check is handed off', () => {
  it('`drift check` says so, waits for the report and prints it (exit codes as for a direct answer)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'hand-off-cli-'));
    try {
      let stdout = '';
      let stderr = '';
      const env = { HOME: home, XDG_STATE_HOME: join(home, 'state'), IAM_MAPPING_ENDPOINT: h.server.url, IAM_MAPPING_TOKEN: await h.token('owner') };
      const code = await runCli(['drift', 'check', '-n', CLOUD, '--fail-on-drift'], { out: (t) => void (stdout += t), err: (t) => void (stderr += t), env });
      expect(code, stdout + stderr).toBe(0);
      expect(stderr).toMatch(/goes on in the background/);
      expect(stderr).toMatch(/waiting for it \(up to 900s\)/);
      expect(stdout).toMatch(/^cloud cldrsrc_handoff, checked \S+: no drift/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
