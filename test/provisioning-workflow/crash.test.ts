/**
 * Runs always end, also across a crash: `npm start` is SIGKILLed in the middle of provisioning;
 * at the next start the cut-off run (still RUNNING in the store) is resumed — without any new
 * PUT — and ends SUCCEEDED with every identity provisioned once.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { IAMClient, paginateListRoles } from '@aws-sdk/client-iam';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, startNpmStart } from '../helpers/npm-start.js';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('SIGKILL of npm start mid-run', () => {
  const CLOUD = 'cldrsrc_resume';
  const MAPPING = `/v1/clouds/${CLOUD}/iam-mapping`;
  const SAS = Array.from({ length: 40 }, (_, i) => `resume-sa-${String(i).padStart(2, '0')}`);
  const config = {
    cloud_deployment_id: CLOUD,
    cloud_provider: 'AWS',
    compute_stack: 'K8S',
    dataplane_iam_mapping: { rules: SAS.map((sa, i) => ({ selector: `user=u${i}@example.com`, value: sa })), fallback_rule: 'FAIL' },
  };

  it('the run left RUNNING is resumed at start-up and ends SUCCEEDED, with no new version', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'iam-mapping-resume-'));
    const env = {
      ...process.env,
      DATA_DIR: dataDir,
      SANDBOX_LATENCY_MS: '10',
      PLAN_PAGE_SIZE: '8',
      DRIFT_INTERVAL_SECONDS: '0',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    };
    let child = await startNpmStart(env);
    cleanups.push(async () => {
      if (child.proc.exitCode === null) {
        child.proc.kill('SIGKILL');
        await child.exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    });
    const token = (await promisify(execFile)('npm', ['run', '--silent', 'dev-token', '--', 'owner'], { cwd: ROOT, env })).stdout.trim();
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${child.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, text, json: text ? JSON.parse(text) : undefined };
    };

    const put = await api('PUT', MAPPING, config);
    expect(put.status, put.text).toBe(200);
    let seen: any;
    const deadline = Date.now() + 30_000;
    for (;;) {
      seen = (await api('GET', `${MAPPING}/provisioning`)).json;
      if (seen.status === 'RUNNING' && seen.items.length >= 3) break;
      expect(seen.status, JSON.stringify(seen).slice(0, 300)).not.toMatch(/SUCCEEDED|FAILED/);
      expect(Date.now() < deadline, 'provisioning started').toBe(true);
      await new Promise((r) => setTimeout(r, 20));
    }
    child.proc.kill('SIGKILL');
    await child.exited;
    expect(seen.items.length).toBeLessThan(SAS.length);

    child = await startNpmStart(env);
    const restartedAt = Date.now();
    let status: any;
    const until = Date.now() + 60_000;
    do {
      await new Promise((r) => setTimeout(r, 100));
      status = (await api('GET', `${MAPPING}/provisioning`)).json;
    } while (!['SUCCEEDED', 'FAILED'].includes(status.status) && Date.now() < until);
    expect(status.status, JSON.stringify(status).slice(0, 500)).toBe('SUCCEEDED');
    expect(status.config_version).toBe(1);
    expect(status.items).toHaveLength(SAS.length);
    expect((await api('GET', `${MAPPING}/versions`)).json.versions).toHaveLength(1);
    // One role per SA, none twice.
    const iam = new IAMClient({ region: 'us-east-1', endpoint: `${child.url}/sandbox/aws`, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const names: string[] = [];
    for await (const page of paginateListRoles({ client: iam }, { PathPrefix: '/' })) names.push(...(page.Roles ?? []).map((r) => r.RoleName!));
    iam.destroy();
    expect(names.filter((n) => n.includes(CLOUD))).toHaveLength(SAS.length);
    console.log(`[crash] killed at ${seen.items.length}/${SAS.length} items; resumed run SUCCEEDED ${Date.now() - restartedAt} ms after restart`);

    child.proc.kill('SIGTERM');
    expect(await child.exited, child.output()).toBe(0);
  }, 150_000);
});
