/**
 * The web console in a real browser: Debian's headless Chromium (/usr/bin/chromium) driven by
 * playwright-core — never a downloaded browser. Skipped when either is missing.
 * Flow: sign in with a pasted token, pick the cloud, see a validation error at its line (as you
 * type, from the browser's copy of the validation, and from the server on Save), complete
 * `workload-type` values, pick clouds from the list, see the plan before Save, save the seed-001
 * EKS example and watch provisioning succeed live, resolve conflicts on 412, run a what-if, diff
 * and roll back versions, run a drift check, see the mapping picture, repair, forget a pinned
 * cluster; a viewer cannot save (and is told why). Screenshots at 1280 and 390 px wide.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../functions/routes.js';
import { startHarness, type Harness } from '../helpers/local.js';
import { SEED_EXAMPLES } from '../helpers/seeds.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SCREENSHOT = join(tmpdir(), 'iam-mapping-console.png');
const shot = (name: string, width: number) => join(tmpdir(), `iam-mapping-console-${name}-${width}.png`);
const CLOUD = 'cldrsrc_XXXX';
const hasDrift = ROUTES.some((r) => r.path === '/v1/clouds/{cloud}/drift-checks');
const hasPlan = ROUTES.some((r) => (r.path as string) === '/v1/clouds/{cloud}/iam-mapping/plan');

function playwrightInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('playwright-core');
    return true;
  } catch {
    return false;
  }
}
const available = existsSync(CHROMIUM) && playwrightInstalled();

// The few playwright-core types used (imported by name at run time, so type checking needs no package).
interface Locator {
  fill(text: string): Promise<void>;
  click(): Promise<void>;
  textContent(): Promise<string | null>;
  count(): Promise<number>;
  isDisabled(): Promise<boolean>;
  isHidden(): Promise<boolean>;
  getAttribute(name: string): Promise<string | null>;
  allTextContents(): Promise<string[]>;
  press(key: string): Promise<void>;
  selectOption(value: string): Promise<unknown>;
  waitFor(o?: { state?: 'visible' | 'attached' | 'hidden'; timeout?: number }): Promise<void>;
  first(): Locator;
  nth(i: number): Locator;
  locator(selector: string): Locator;
  getByRole(role: string, o?: { name?: string | RegExp }): Locator;
}
interface Page {
  goto(url: string): Promise<unknown>;
  locator(selector: string, o?: { hasText?: string | RegExp }): Locator;
  getByRole(role: string, o?: { name?: string | RegExp }): Locator;
  on(event: 'pageerror' | 'console', fn: (x: any) => void): void;
  screenshot(o: { path: string; fullPage?: boolean }): Promise<unknown>;
  setViewportSize(s: { width: number; height: number }): Promise<void>;
  evaluate<T>(fn: () => T): Promise<T>;
  keyboard: { press(key: string): Promise<void>; type(text: string): Promise<void> };
}
interface Context {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}
interface Playwright {
  chromium: { launchPersistentContext(dir: string, o: Record<string, unknown>): Promise<Context> };
}

describe.skipIf(!available)('web console (headless Chromium)', () => {
  let h: Harness;
  let context: Context;
  let page: Page;
  let userDataDir: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    h = await startHarness();
    userDataDir = mkdtempSync(join(tmpdir(), 'iam-mapping-chromium-'));
    const name = 'playwright-core';
    const { chromium } = (await import(name)) as Playwright;
    // launchPersistentContext passes --user-data-dir itself (a fresh directory); `headless` adds --headless.
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS.filter((f) => f !== '--headless'),
      viewport: { width: 1280, height: 900 },
      timeout: 60_000,
    });
    page = await context.newPage();
    page.on('pageerror', (e: Error) => pageErrors.push(`pageerror: ${e.message}`));
    // Chromium logs every 4xx as "Failed to load resource", even one the console asked for and handles:
    // a 409 is a drift check while a run is still going (the console says so; the drift test checks again).
    page.on('console', (m: { type(): string; text(): string }) => {
      if (m.type() === 'error' && !/status of (400|401|403|404|409|412|422)/.test(m.text())) pageErrors.push(`console: ${m.text()}`);
    });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await h?.stop();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  const text = async (selector: string) => (await page.locator(selector).first().textContent()) ?? '';
  const until = async (selector: string, re: RegExp, timeout = 30_000) => {
    await page.locator(selector, { hasText: re }).first().waitFor({ state: 'attached', timeout });
    return text(selector);
  };
  const tab = (name: string) => page.locator(`[data-tab="${name}"]`).click();
  /** Save: with the plan route the console shows the plan first, then "Save these changes" saves. */
  const save = async () => {
    await page.locator('#save').click();
    if (hasPlan) {
      await page.locator('#plan-save').waitFor({ timeout: 30_000 });
      await page.locator('#plan-save').click();
    }
  };

  it('signs in with a pasted token and opens a cloud without a config', async () => {
    await page.goto(`${h.server.url}/console`);
    await page.locator('#token').waitFor();
    await page.locator('#token').fill('not a token');
    await page.locator('#signin-btn').click();
    expect(await text('#signin-error')).toContain('not a JWT');
    await page.locator('#token').fill(await h.token('owner', 'alice@example.com'));
    await page.locator('#signin-btn').click();
    expect(await until('#who-text', /alice@example\.com · owner/)).toBeTruthy();
    await page.locator('#cloud').fill(CLOUD);
    await page.locator('#open-cloud').click();
    expect(await until('#config-banner', /has no IAM mapping config yet/)).toBeTruthy();
  });

  it('editor: the browser checks as you type (diagnostics at line and column) and completes workload-type values', async () => {
    const bad = SEED_EXAMPLES.eks.replace('user=user2@example.com', 'usr=user2@example.com').replace('fallback_rule: CLOUD_DEFAULT', 'fallback_rule: DEFAULT');
    await page.locator('#yaml').fill(bad);
    expect(await until('#check-status', /Checked in your browser .*: 2 errors/)).toBeTruthy();
    expect(await page.locator('.cm-lineNumbers .cm-gutterElement.err').allTextContents()).toEqual(['8', '10']);
    const problems = await text('#config-problems');
    expect(problems).toContain('line 8, col 49');
    expect(problems).toContain('selector key "usr" is not supported');
    expect(problems).toMatch(/line 10, col \d+.*fallback_rule must be one of CLOUD_DEFAULT, FAIL/);
    expect(await page.locator('.cm-lintRange-error').count()).toBe(2);
    // Fixed in the editor: the marks go as you type.
    await page.locator('#yaml').fill(SEED_EXAMPLES.eks);
    expect(await until('#check-status', /no errors/)).toBeTruthy();
    expect(await page.locator('.cm-lineNumbers .cm-gutterElement.err').count()).toBe(0);
    // Completion: workload-type values inside a selector, keys at the start of a line.
    await page.locator('#yaml').fill('dataplane_iam_mapping:\n  rules:\n    - selector: workload-type in (');
    await page.locator('#yaml').press('Control+End');
    await page.keyboard.press('Control+Space');
    const options = await until('.cm-tooltip-autocomplete', /workspace/);
    for (const t of ['job', 'service', 'workspace']) expect(options).toContain(t);
    await page.keyboard.type('ser');
    // The list is filtered asynchronously, and CodeMirror ignores Enter for its interactionDelay
    // after the list changes: pick the narrowed option with the mouse instead.
    await until('.cm-tooltip-autocomplete li[aria-selected]', /^service/);
    await page.locator('.cm-tooltip-autocomplete li[aria-selected]').click();
    expect(await text('#yaml')).toContain('workload-type in (service');
    await page.keyboard.press('Enter');
    await page.keyboard.type('val');
    expect(await until('.cm-tooltip-autocomplete', /value/)).toContain('value');
    await page.keyboard.press('Escape');
  });

  it('shows validation errors at their line (selector character from rule_index/position)', async () => {
    await page.locator('#yaml').fill(SEED_EXAMPLES.eks.replace('user=user2@example.com', 'usr=user2@example.com'));
    await page.locator('#save').click();
    const problems = await until('#config-problems', /line 8, col 49/);
    expect(problems).toContain('rule 1: selector key "usr" is not supported');
    expect(await until('.cm-lineNumbers .cm-gutterElement.err', /^8$/)).toBe('8');
    expect(await text('#config-banner')).toContain('Not saved');
  });

  it('saves the seed-001 EKS example and shows provisioning SUCCEEDED with its resources', async () => {
    await page.locator('#yaml').fill(SEED_EXAMPLES.eks);
    if (hasPlan) {
      // Save shows the plan first: what provisioning would make, nothing stored yet.
      await page.locator('#save').click();
      expect(await until('#plan-summary', /Plan: 6 to create, 0 to change, 0 to delete/)).toBeTruthy();
      expect(await page.locator('#plan-changes li[data-kind="iam-role"]').count()).toBe(2);
      const changes = await text('#plan-changes');
      expect(changes).toContain('create iam-role');
      expect(changes).toContain('create service-account anyscale-operator/kubernetes-service-account-name2');
      expect((await h.api('GET', `/v1/clouds/${CLOUD}/iam-mapping`, { role: 'viewer' })).status).toBe(404);
      await page.screenshot({ path: shot('plan', 1280), fullPage: true });
      await page.locator('#plan-save').click();
    } else await save();
    expect(await until('#config-banner', /Saved as version 1/)).toBeTruthy();
    // The banner follows the run until it ends, without a reload.
    expect(await until('#save-prov-status', /SUCCEEDED/, 45_000)).toBe('SUCCEEDED');
    expect(await page.locator('#plan-box').isHidden()).toBe(true);
    expect(await page.locator('#config-problems li').count()).toBe(0);
    expect(await text('#config-status')).toMatch(/version 1 · etag 1-/);
    await tab('provisioning');
    expect(await until('#prov-status', /SUCCEEDED/, 45_000)).toBe('SUCCEEDED');
    const resources = await text('#prov-resources');
    expect(resources).toContain('service-account');
    expect(resources).toContain('kubernetes-service-account-name2');
    expect(resources).toContain('iam-role');
  });

  it('lists the clouds in the token’s scope to pick from (GET /v1/clouds)', async () => {
    expect((await h.api('PUT', '/v1/clouds/cldrsrc_OTHER/iam-mapping', { body: SEED_EXAMPLES.eks.replace('cldrsrc_XXXX', 'cldrsrc_OTHER') })).status).toBe(200);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#token').fill(await h.token('owner', 'alice@example.com'));
    await page.locator('#signin-btn').click();
    const list = await until('#cloud-pick', /2 clouds/);
    expect(list).toContain('cldrsrc_OTHER · AWS/K8S · v1');
    expect(list).toContain(`${CLOUD} · AWS/K8S · v1`);
    await page.locator('#cloud-pick').selectOption('cldrsrc_OTHER');
    expect(await until('#config-status', /cldrsrc_OTHER: version 1/)).toBeTruthy();
    await page.locator('#cloud-pick').selectOption(CLOUD);
    expect(await until('#config-status', new RegExp(`${CLOUD}: version 1`))).toBeTruthy();
  });

  it('on 412 keeps the text, compares with the current version, and saves on top of it', async () => {
    // Someone else stores version 2 meanwhile.
    expect((await h.api('PUT', `/v1/clouds/${CLOUD}/iam-mapping`, { body: SEED_EXAMPLES.eks.replace('CLOUD_DEFAULT', 'FAIL') })).status).toBe(200);
    await tab('config');
    const mine = SEED_EXAMPLES.eks.replace('kubernetes-service-account-name2', 'kubernetes-service-account-name3');
    await page.locator('#yaml').fill(mine);
    await save();
    expect(await until('#config-banner', /someone else saved a newer version/)).toBeTruthy();
    await page.getByRole('button', { name: 'Compare with current' }).click();
    const banner = await until('#config-banner', /Differences between the current version 2/);
    expect(banner).toContain('-   fallback_rule: FAIL');
    expect(banner).toContain('+       value: kubernetes-service-account-name3');
    await save();
    expect(await until('#config-banner', /Saved as version 3/)).toBeTruthy();
  });

  it('what-if: resolves a launch and shows the matched rule and the trace', async () => {
    await tab('whatif');
    await page.locator('#wi-type').selectOption('job');
    await page.locator('#wi-project').fill('p');
    await page.locator('#wi-user').fill('user2@example.com');
    await page.locator('#wi-run').click();
    const answer = await until('#wi-answer', /kubernetes-service-account-name3/);
    expect(answer).toContain('rule 1');
    expect(answer).toContain('Config version3');
    const trace = await text('#wi-trace');
    expect(trace).toContain('user is "user2@example.com", not "user1@example.com"');
    expect(trace).toContain('MATCH');
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it('history: diff between versions and rollback as a new version', async () => {
    await tab('history');
    await until('#history-status', /3 versions/);
    await page.locator('tr[data-version="3"]').getByRole('button', { name: 'Diff vs previous' }).click();
    const diff = await until('#diff', /kubernetes-service-account-name3/);
    expect(diff).toContain('-   fallback_rule: FAIL');
    expect(diff).toContain('+   fallback_rule: CLOUD_DEFAULT');
    expect(await text('#diff-title')).toMatch(/v2 → v3: 2 lines added, 2 removed/);
    const rollback = page.locator('tr[data-version="1"]').getByRole('button', { name: /Roll back|Confirm/ });
    await rollback.click();
    await page.locator('tr[data-version="1"]').getByRole('button', { name: 'Confirm: restore v1' }).click();
    expect(await until('#history-status', /Rolled back: the content of v1 is stored as v4/)).toBeTruthy();
    expect(await page.locator('#diff-box').isHidden()).toBe(true);
    const res = await h.api('GET', `/v1/clouds/${CLOUD}/iam-mapping`, { role: 'viewer' });
    expect(res.json).toMatchObject({
      version: 4,
      dataplane_iam_mapping: { rules: [{}, { value: 'kubernetes-service-account-name2' }], fallback_rule: 'CLOUD_DEFAULT' },
    });
  });

  it.skipIf(!hasDrift)('drift: "Check now" runs a check and shows the report with findings', async () => {
    await tab('provisioning');
    await until('#prov-status', /SUCCEEDED/, 45_000);
    await tab('drift');
    await until('#drift-report', /No drift report yet/);
    await page.locator('#drift-check').click();
    expect(await until('#drift-result', /no drift|drifted/)).toBeTruthy();
    // Someone edits the service account by hand: the next check finds it.
    const sa = `${h.server.url}/sandbox/k8s/api/v1/namespaces/anyscale-operator/serviceaccounts/kubernetes-service-account-name1`;
    const patched = await fetch(sa, {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ metadata: { annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/hand-made' } } }),
    });
    expect(patched.status).toBe(200);
    await page.locator('#drift-check').click();
    expect(await until('#drift-result', /drifted \(\d+ findings?\)/)).toBeTruthy();
    expect(await until('#drift-findings', /hand-made/)).toContain('kubernetes-service-account-name1');
    expect(await text('#drift-mode')).toBe('report');
    await page.screenshot({ path: shot('drift', 1280), fullPage: true });

    // The picture: 2 rules + the fallback → 2 identities → 2 roles → 2 ServiceAccounts; the tampered one drawn as drifted.
    await tab('map');
    expect(await until('#map-status', /drift \d+ findings?/)).toContain('provisioning SUCCEEDED');
    expect(await page.locator('#map-svg .map-node[data-column="0"]').count()).toBe(3);
    expect(await page.locator('#map-svg .map-node[data-column="1"]').count()).toBe(2);
    expect(await page.locator('#map-svg .map-node[data-column="2"]').count()).toBe(2);
    expect(await page.locator('#map-svg .map-node[data-column="3"]').count()).toBe(2);
    for (const column of ['1', '2', '3']) {
      // name1's identity, role and ServiceAccount are drawn drifted; name2's stay provisioned.
      const nodes = page.locator(`#map-svg .map-node[data-column="${column}"]`);
      expect(await nodes.nth(0).getAttribute('data-state'), column).toBe('drift');
      expect(await nodes.nth(1).getAttribute('data-state'), column).toBe('ok');
    }
    expect(await page.locator('#map-svg .map-node.drift title').first().textContent()).toContain('kubernetes-service-account-name1');
    await page.screenshot({ path: shot('map', 1280), fullPage: true });

    // Repair re-provisions what drifted; the next check is clean.
    await tab('drift');
    expect(await page.locator('#drift-repair').isDisabled()).toBe(false);
    await page.locator('#drift-repair').click();
    expect(await until('#drift-status', /Repair started for \d+ items?/)).toBeTruthy();
    await tab('provisioning');
    await until('#prov-status', /SUCCEEDED/, 45_000);
    await tab('drift');
    // (409 while the repair's run is still going: the console says so; check again.)
    for (let i = 0; i < 40; i++) {
      await page.locator('#drift-check').click();
      await until('#drift-status', /Checked just now|Not checked/);
      if (/Checked just now/.test(await text('#drift-status'))) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(await text('#drift-status')).toContain('Checked just now');
    expect(await text('#drift-report')).not.toContain('hand-made');
    expect(await page.locator('#drift-repair').getAttribute('title')).toMatch(/Nothing drifted|None of the findings can be repaired/);

    // A check that outlasts the deployment's deadline (lowered to 1 ms for this step) answers 202
    // and goes on in the background: the console says so, waits for its report and shows it.
    const deadline = h.server.app.config.driftDeadlineMs;
    h.server.app.config.driftDeadlineMs = 1;
    try {
      await page.locator('#drift-check').click();
      expect(await until('#drift-status', /goes on in the background/)).toContain('Waiting for its report');
      expect(await until('#drift-status', /Checked just now/)).toBeTruthy();
      expect(await text('#drift-result')).toMatch(/no drift|drifted/);
    } finally {
      h.server.app.config.driftDeadlineMs = deadline;
    }

    // A newer version: the report on screen compares an older one, and says so.
    expect((await h.api('PUT', `/v1/clouds/${CLOUD}/iam-mapping`, { body: SEED_EXAMPLES.eks.replace('CLOUD_DEFAULT', 'FAIL') })).status).toBe(200);
    await tab('config');
    await page.locator('#reload').click();
    await until('#config-status', /version 5/);
    await tab('drift');
    expect(await until('#drift-stale', /older than the current version 5/)).toBeTruthy();
  });

  it('bindings: pinned clusters are listed and an owner forgets one', async () => {
    const launch = { workload_type: 'job', project: 'p', user: 'user2@example.com', cluster_id: 'ses_pinned_1' };
    expect((await h.api('POST', `/v1/clouds/${CLOUD}/iam-mapping/resolve`, { role: 'control-plane', body: launch })).status).toBe(200);
    await tab('bindings');
    expect(await until('#bindings-table', /ses_pinned_1/)).toContain('kubernetes-service-account-name2');
    await page.locator('tr[data-cluster="ses_pinned_1"]').getByRole('button', { name: 'Forget' }).click();
    expect(await until('#bindings-status', /Forgot ses_pinned_1/)).toBeTruthy();
    expect((await h.api('GET', `/v1/clouds/${CLOUD}/iam-mapping/bindings`, { role: 'viewer' })).json).toEqual([]);
  });

  it('fits 390 px: no page-wide horizontal scroll, tables inside their cards (screenshots)', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const name of ['config', 'provisioning', 'drift', 'map', 'history']) {
      await tab(name);
      await page.locator(`#tab-${name}`).waitFor();
      await new Promise((r) => setTimeout(r, 300));
      const width = await page.evaluate(
        () => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth,
      );
      expect(width, name).toBeLessThanOrEqual(390);
      await page.screenshot({ path: shot(name, 390), fullPage: true });
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    await tab('config');
    await page.screenshot({ path: shot('config', 1280), fullPage: true });
  });

  it('a viewer can look but not save, roll back, resolve or run checks', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#token').fill(await h.token('viewer', 'val@example.com'));
    await page.locator('#signin-btn').click();
    await until('#who-text', /val@example\.com · viewer/);
    await tab('config');
    await until('#config-status', /version 5/);
    expect(await page.locator('#save').isDisabled()).toBe(true);
    expect(await page.locator('#drift-check').isDisabled()).toBe(true);
    expect(await page.locator('#wi-run').isDisabled()).toBe(true);
    // Each disabled control says why (tooltip and accessible description).
    expect(await page.locator('#save').getAttribute('title')).toMatch(/needs the owner role/i);
    expect(await page.locator('#save').getAttribute('aria-describedby')).toBe('reason-owner');
    expect(await page.locator('#wi-run').getAttribute('aria-describedby')).toBe('reason-resolve');
    expect(await text('#reason-resolve')).toMatch(/owner or control-plane/);
    expect(await page.locator('#drift-repair').isDisabled()).toBe(true);
    expect(await page.locator('#drift-repair').getAttribute('title')).toMatch(/needs the owner role/i);
    expect(await text('#role-note')).toContain('Read-only');
    expect(pageErrors).toEqual([]);
  });
});
