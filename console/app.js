// @ts-check
/**
 * The web console: ES modules bundled with CodeMirror by scripts/build-console.ts (esbuild) into
 * console/dist/. Everything it shows comes from the HTTP API (same origin) with the pasted token;
 * it never renders server text as HTML (textContent only).
 */
import { ApiError, api, cloudPath, describeToken, session, whenUnauthorized } from './api.js';
import { diffStats, lineDiff } from './diff.js';
import { createEditor } from './editor.js';
import { mapModel, renderMap } from './map.js';
import { breakable, sideBySide } from './views.js';

/** @typedef {import('./api.js').ErrorDetail} ErrorDetail */
/** @typedef {import('./api.js').ApiResult} ApiResult */

/**
 * @param {string} id
 * @returns {any}
 */
const $ = (id) => {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} is missing`);
  return node;
};

/**
 * Builds an element; strings become text nodes (never HTML).
 * @param {string} tag
 * @param {Record<string, any>} [attrs]
 * @param {...(Node | string | number | null | undefined | false)} children
 * @returns {HTMLElement}
 */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = String(v);
    else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(typeof c === 'string' || typeof c === 'number' ? String(c) : c);
  // A data table scrolls inside its card instead of widening it (narrow screens, long names).
  if (tag === 'table' && node.classList.contains('grid')) {
    labelCells(/** @type {HTMLTableElement} */ (node));
    const wrap = document.createElement('div');
    wrap.className = 'scroll';
    wrap.append(node);
    return wrap;
  }
  return node;
}

/**
 * Each cell carries its column's name (data-label): on a narrow screen rows stack as cards and
 * the names become the cells' captions (style.css).
 * @param {HTMLTableElement} table
 */
function labelCells(table) {
  const names = [...table.querySelectorAll('thead th')].map((th) => th.textContent ?? '');
  for (const row of table.querySelectorAll('tbody tr')) {
    let column = 0;
    for (const cell of /** @type {HTMLTableCellElement[]} */ ([...row.children])) {
      const label = names
        .slice(column, column + cell.colSpan)
        .filter(Boolean)
        .join(' / ');
      if (label) cell.setAttribute('data-label', label);
      column += cell.colSpan;
    }
  }
}

/** @param {HTMLElement} node @param {...(Node | string | null | undefined | false)} children */
function fill(node, ...children) {
  node.replaceChildren(
    ...children
      .filter((c) => c !== null && c !== undefined && c !== false)
      .map((c) => (typeof c === 'string' ? document.createTextNode(c) : /** @type {Node} */ (c))),
  );
}

/** @param {string | undefined | null} iso */
const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');
/** @param {unknown} v */
const shown = (v) => (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v, null, 1));
/** @param {unknown} e */
const messageOf = (e) => (e instanceof ApiError ? e.message : e instanceof Error ? e.message : String(e));

const EKS_EXAMPLE = `cloud_deployment_id: CLOUD
cloud_provider: AWS
compute_stack: K8S
dataplane_iam_mapping:
  rules:
    - selector: workload-type in (workspace),user=user1@example.com
      value: kubernetes-service-account-name1
    - selector: workload-type in (job, service),user=user2@example.com
      value: kubernetes-service-account-name2
  fallback_rule: CLOUD_DEFAULT
`;

const state = {
  /** @type {string | null} */ cloud: null,
  /** @type {string | null} quoted, as the server sent it */ etag: null,
  /** @type {number | null} */ version: null,
  /** @type {string[]} */ roles: [],
  tab: 'config',
  /** @type {number | undefined} */ provTimer: undefined,
  /** @type {Map<string, string>} YAML of versions (immutable), by `${cloud}@${version}` */ versionText: new Map(),
  /** @type {any} the latest provisioning run seen */ run: null,
  /** @type {any} the latest drift report seen */ drift: null,
  /** @type {boolean | null} whether the server has the plan route (null: not asked yet) */ hasPlan: null,
  /** @type {string | null} the text the plan on screen is for */ plannedText: null,
  /** @type {number} when the editor's text was last set (for the load figure) */ loadedAt: 0,
};

const isOwner = () => state.roles.includes('owner');
const canResolve = () => state.roles.includes('owner') || state.roles.includes('control-plane');

// ---------------------------------------------------------------------------------------------
// Sign in, cloud, tabs
// ---------------------------------------------------------------------------------------------

function showSignin(message = '') {
  $('signin').hidden = false;
  $('app').hidden = true;
  $('cloud-form').hidden = true;
  $('who').hidden = true;
  $('signin-error').textContent = message;
  $('token').focus();
}

function showSignedIn() {
  const token = session.token();
  const who = token ? describeToken(token) : null;
  if (!token || !who) return showSignin();
  state.roles = who.roles;
  $('signin').hidden = true;
  $('cloud-form').hidden = false;
  $('who').hidden = false;
  $('who-text').textContent = `${who.subject} · ${who.roles.join(', ') || 'no role'}`;
  applyRoles();
  loadClouds();
  const cloud = session.cloud();
  if (cloud) {
    $('cloud').value = cloud;
    openCloud(cloud);
  } else $('cloud').focus();
}

/** The clouds in the token's scope that have a config (GET /v1/clouds), to pick from. */
async function loadClouds() {
  const pick = $('cloud-pick');
  try {
    const res = await api('GET', '/v1/clouds');
    const clouds = /** @type {Array<{cloud_deployment_id: string, version: number, cloud_provider: string, compute_stack: string}>} */ (res.json ?? []);
    pick.replaceChildren(
      el('option', { value: '' }, clouds.length ? `${clouds.length} cloud${clouds.length === 1 ? '' : 's'}…` : 'no clouds yet'),
      ...clouds.map((c) =>
        el(
          'option',
          { value: c.cloud_deployment_id, selected: c.cloud_deployment_id === state.cloud },
          `${c.cloud_deployment_id} · ${c.cloud_provider}/${c.compute_stack} · v${c.version}`,
        ),
      ),
    );
  } catch (e) {
    pick.replaceChildren(el('option', { value: '' }, 'clouds: unavailable'));
    pick.title = `Could not list the clouds: ${messageOf(e)}`;
  }
}

$('cloud-pick').addEventListener('change', () => {
  const cloud = String($('cloud-pick').value);
  if (!cloud) return;
  $('cloud').value = cloud;
  openCloud(cloud);
});

/**
 * Disables a control and says why: the reason is its tooltip and its accessible description.
 * @param {HTMLElement & { disabled: boolean }} control
 * @param {string | null} reason null: enabled
 * @param {string} [reasonId] the element whose text is the reason (aria-describedby)
 */
function allow(control, reason, reasonId) {
  control.disabled = reason !== null;
  if (reason === null) {
    control.removeAttribute('title');
    control.removeAttribute('aria-describedby');
    return;
  }
  control.title = reason;
  if (reasonId) control.setAttribute('aria-describedby', reasonId);
}

const OWNER_REASON = () => $('reason-owner').textContent;

function applyRoles() {
  const owner = isOwner();
  for (const id of ['save', 'example', 'plan', 'drift-check']) allow($(id), owner ? null : OWNER_REASON(), 'reason-owner');
  allow($('wi-run'), canResolve() ? null : $('reason-resolve').textContent, 'reason-resolve');
  const note = $('role-note');
  note.hidden = owner;
  note.textContent = owner
    ? ''
    : `Read-only: you are signed in as ${state.roles.join(', ') || 'no role'}. Save, Plan, Repair, Roll back and Forget need the owner role.`;
  updateRepair();
}

$('signin-form').addEventListener('submit', (/** @type {Event} */ e) => {
  e.preventDefault();
  const token = String($('token').value)
    .trim()
    .replace(/^Bearer\s+/i, '');
  const who = describeToken(token);
  if (!who) return void ($('signin-error').textContent = 'That is not a JWT (three base64url parts separated by dots).');
  if (who.expires && who.expires.getTime() < Date.now()) return void ($('signin-error').textContent = `That token expired at ${who.expires.toLocaleString()}.`);
  session.setToken(token);
  $('token').value = '';
  showSignedIn();
});

$('sign-out').addEventListener('click', () => {
  session.clear();
  stopProvisioningPoll();
  showSignin();
});

whenUnauthorized(() => {
  session.clear();
  stopProvisioningPoll();
  showSignin('The server refused the token (expired, or from another server). Paste a new one.');
});

$('cloud-form').addEventListener('submit', (/** @type {Event} */ e) => {
  e.preventDefault();
  const cloud = String($('cloud').value).trim();
  if (cloud) openCloud(cloud);
});

/** @param {string} cloud */
function openCloud(cloud) {
  session.setCloud(cloud);
  state.cloud = cloud;
  state.etag = null;
  state.version = null;
  stopProvisioningPoll();
  $('app').hidden = false;
  fill($('diff'));
  $('diff-box').hidden = true;
  fill($('wi-result'));
  state.run = null;
  state.drift = null;
  clearPlan();
  loadConfig();
  selectTab(state.tab);
}

for (const tab of document.querySelectorAll('[data-tab]')) {
  tab.addEventListener('click', () => selectTab(/** @type {HTMLElement} */ (tab).dataset.tab ?? 'config'));
}

/** @param {string} name */
function selectTab(name) {
  state.tab = name;
  for (const tab of document.querySelectorAll('[data-tab]')) {
    const selected = /** @type {HTMLElement} */ (tab).dataset.tab === name;
    tab.setAttribute('aria-selected', String(selected));
    if (selected) tab.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }
  for (const panel of document.querySelectorAll('.tab')) /** @type {HTMLElement} */ (panel).hidden = panel.id !== `tab-${name}`;
  if (name === 'history') loadHistory();
  if (name === 'provisioning') loadProvisioning();
  if (name === 'drift') loadDrift();
  if (name === 'map') loadMap();
  if (name === 'bindings') loadBindings();
}

// ---------------------------------------------------------------------------------------------
// Config editor
// ---------------------------------------------------------------------------------------------

const editor = createEditor($('editor'), {
  workerUrl: new URL('worker.js', import.meta.url),
  cloudId: () => state.cloud,
  onProblems(problems, reply, source) {
    if (source === 'browser' && reply) {
      const errors = problems.filter((p) => p.severity === 'error').length;
      const warnings = problems.length - errors;
      $('check-status').textContent =
        editor.text().trim() === ''
          ? ''
          : `Checked in your browser (${Math.round(reply.ms)} ms${reply.rules ? `, ${reply.rules} rule${reply.rules === 1 ? '' : 's'}` : ''}): ` +
            (errors ? `${errors} error${errors === 1 ? '' : 's'}` : 'no errors') +
            (warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : '') +
            '. The server checks again on Plan and Save.';
      $('check-status').className = errors ? 'error-text' : 'muted';
      document.body.dataset.checked = String(Math.round(reply.ms));
      listProblems(problems);
    }
  },
});

/** The read-only `version:` line of a GET is not part of the config; blanked (line numbers stay). */
const withoutVersionLine = (/** @type {string} */ text) => text.replace(/^version:[ \t]*\d+[ \t]*$/m, '');

/** @param {string} text */
function setEditorText(text) {
  editor.setText(text);
  state.loadedAt = performance.now();
  clearPlan();
}

/**
 * @param {'ok' | 'bad' | 'warn' | null} kind
 * @param {string} [text]
 * @param {HTMLElement[]} [actions]
 */
function banner(kind, text = '', actions = []) {
  const box = $('config-banner');
  box.hidden = kind === null;
  box.className = `banner ${kind ?? ''}`;
  fill(box, el('div', {}, text), actions.length ? el('div', { class: 'actions' }, ...actions) : null);
}

function setStatus() {
  $('config-status').textContent =
    state.version !== null ? `${state.cloud}: version ${state.version} · etag ${(state.etag ?? '').replace(/"/g, '')}` : `${state.cloud}: no config yet`;
}

async function loadConfig() {
  const cloud = state.cloud;
  if (!cloud) return;
  setProblems([]);
  banner(null);
  $('config-status').textContent = 'loading…';
  try {
    const res = await api('GET', cloudPath(cloud, '/iam-mapping'), { accept: 'application/yaml', expect: [404] });
    if (cloud !== state.cloud) return;
    if (res.status === 404) {
      state.etag = null;
      state.version = null;
      setEditorText('');
      banner(
        'warn',
        `Cloud ${cloud} has no IAM mapping config yet. Paste one (YAML or JSON, as \`anyscale cloud config get\` prints it) or insert the example, then Save.`,
      );
    } else {
      state.etag = res.headers.get('etag');
      const m = /^version:[ \t]*(\d+)[ \t]*$/m.exec(res.text);
      state.version = m ? Number(m[1]) : null;
      setEditorText(withoutVersionLine(res.text).replace(/\n+$/, '\n'));
    }
    setStatus();
    document.body.dataset.editorReady = String(state.version ?? 0);
  } catch (e) {
    $('config-status').textContent = '';
    banner('bad', `Could not load the config: ${messageOf(e)}`);
  }
}

$('reload').addEventListener('click', () => loadConfig());

$('example').addEventListener('click', () => {
  const example = EKS_EXAMPLE.replace('CLOUD', state.cloud ?? 'cldrsrc_XXXX');
  const put = () => {
    setEditorText(example);
    banner(null);
  };
  if (editor.text().trim() === '') put();
  else banner('warn', 'The editor is not empty.', [el('button', { type: 'button', onclick: put }, 'Replace my text with the example')]);
});

$('save').addEventListener('click', () => saveOrPlan());
$('plan').addEventListener('click', () => showPlan());

/** Save shows the plan first (when the server has the plan route); "Save these changes" then saves. */
async function saveOrPlan() {
  const text = withoutVersionLine(editor.text());
  if (state.hasPlan !== false && state.plannedText !== text) {
    const planned = await showPlan({ thenSave: true });
    if (planned) return;
  }
  await save();
}

async function save() {
  const cloud = state.cloud;
  if (!cloud) return;
  const text = withoutVersionLine(editor.text());
  if (text.trim() === '') return banner('bad', 'Nothing to save: the editor is empty.');
  clearPlan();
  $('save').disabled = true;
  banner(null);
  setProblems([]);
  try {
    const res = await api('PUT', cloudPath(cloud, '/iam-mapping'), {
      body: text,
      contentType: /^\s*[{[]/.test(text) ? 'application/json' : 'application/yaml',
      ...(state.etag ? { ifMatch: state.etag } : {}),
      expect: [400, 403, 412],
    });
    if (res.status === 200) {
      state.etag = res.headers.get('etag') ?? `"${res.json.etag}"`;
      state.version = res.json.version;
      setStatus();
      const warnings = /** @type {ErrorDetail[]} */ (res.json.warnings ?? []);
      if (res.json.unchanged) {
        banner('ok', `Unchanged: equal to the current version ${res.json.version}; nothing was stored and no provisioning run started.`);
        setProblems(warnings.map((w) => ({ ...w, warning: true })));
        return;
      }
      const live = el(
        'span',
        { class: 'badge PENDING', id: 'save-prov-status', dataset: { version: String(res.json.version) } },
        res.json.provisioning?.status ?? 'PENDING',
      );
      banner('ok', '', [el('button', { type: 'button', onclick: () => selectTab('provisioning') }, 'Show provisioning')]);
      fill(
        /** @type {HTMLElement} */ ($('config-banner').firstChild),
        `Saved as version ${res.json.version}. Provisioning `,
        live,
        el('span', { id: 'save-prov-detail' }, ''),
      );
      setProblems(warnings.map((w) => ({ ...w, warning: true })));
      state.versionText.clear();
      pollProvisioningInBackground();
      loadClouds();
    } else if (res.status === 412) {
      banner(
        'bad',
        'Not saved: someone else saved a newer version of this config while you were editing. Your text is still here. ' +
          'Compare it with the current version, merge, and Save again.',
        [
          el('button', { type: 'button', onclick: () => compareWithCurrent() }, 'Compare with current'),
          el('button', { type: 'button', onclick: () => loadConfig() }, 'Discard mine, load current'),
        ],
      );
    } else if (res.status === 403) {
      banner('bad', `Not saved: ${res.error?.message ?? 'your role may not change the config'}`);
    } else {
      const details = res.error?.details ?? [];
      banner(
        'bad',
        `Not saved: ${details.length > 1 ? `${details.length} problems` : (res.error?.message ?? 'invalid config')}. They are marked at their lines.`,
      );
      setProblems(details.length ? details : [{ path: '', message: res.error?.message ?? 'invalid config' }]);
    }
  } catch (e) {
    banner('bad', `Not saved: ${messageOf(e)}`);
  } finally {
    $('save').disabled = !isOwner();
  }
}

/** After a 412: show how the current version differs from the editor, and base the next save on it. */
async function compareWithCurrent() {
  const cloud = state.cloud;
  if (!cloud) return;
  try {
    const res = await api('GET', cloudPath(cloud, '/iam-mapping'), { accept: 'application/yaml' });
    const theirs = withoutVersionLine(res.text);
    const m = /^version:[ \t]*(\d+)/m.exec(res.text);
    const diff = lineDiff(theirs, withoutVersionLine(editor.text()));
    state.etag = res.headers.get('etag');
    state.version = m ? Number(m[1]) : state.version;
    setStatus();
    const box = el('pre', { class: 'diff' }, ...diff.map(diffLine));
    banner(
      'warn',
      `Differences between the current version ${state.version} (−) and your text (+). Merge what you need; Save now builds on version ${state.version}.`,
    );
    $('config-banner').append(box);
  } catch (e) {
    banner('bad', `Could not load the current version: ${messageOf(e)}`);
  }
}

/**
 * The server's problems (a refused Save or Plan): marked in the editor and listed.
 * @param {Array<ErrorDetail & { warning?: boolean, code?: string }>} problems
 */
function setProblems(problems) {
  const list = problems.map((p) => ({
    ...p,
    severity: /** @type {'error' | 'warning'} */ (p.warning ? 'warning' : 'error'),
    path: p.path ?? '',
    message: p.message,
  }));
  editor.showServerProblems(list);
  listProblems(list);
}

/** @param {import('./editor.js').Problem[]} problems */
function listProblems(problems) {
  const located = problems.map((p) => ({ p, at: editor.locate(p) }));
  located.sort((x, y) => (x.at?.line ?? 0) - (y.at?.line ?? 0) || (x.at?.column ?? 0) - (y.at?.column ?? 0));
  const items = located.slice(0, 200).map(({ p, at }) => {
    const where = at ? `line ${at.line}, col ${at.column}` : p.rule_index !== undefined ? `rule ${p.rule_index}` : p.path || 'config';
    return el(
      'li',
      { class: p.severity === 'warning' ? 'warning' : 'error', dataset: at ? { line: String(at.line) } : {} },
      el(at ? 'button' : 'span', { class: 'where link', type: 'button', onclick: at ? () => editor.goTo(at.line, at.column) : undefined }, where),
      p.code ? `${p.code}: ` : '',
      p.path && at && !p.message.startsWith(p.path) ? `${p.path}: ` : '',
      p.message,
    );
  });
  $('config-problems').replaceChildren(...items);
}

// ---------------------------------------------------------------------------------------------
// Plan: what Save would create, change or delete (POST …/iam-mapping/plan; nothing is stored)
// ---------------------------------------------------------------------------------------------

function clearPlan() {
  state.plannedText = null;
  const box = $('plan-box');
  box.hidden = true;
  fill(box);
}

const ACTION_SIGN = /** @type {Record<string, string>} */ ({ create: '+', update: '~', delete: '-' });

/**
 * A change's diff (lines prefixed `+ `, `- ` or two spaces): a policy that changes side by side
 * (now | after Save), anything else (and whole creates or deletes) as a unified diff.
 * @param {string | undefined} diff
 * @param {string} kind
 * @returns {HTMLElement | null}
 */
function planDiff(diff, kind) {
  if (typeof diff !== 'string' || diff === '') return null;
  const lines = diff.split('\n');
  if (/policy/.test(kind) && lines.some((l) => l.startsWith('- ')) && lines.some((l) => l.startsWith('+ '))) {
    const side = (/** @type {string} */ keep) =>
      lines
        .filter((l) => l.startsWith(keep) || l.startsWith('  '))
        .map((l) => l.slice(2))
        .join('\n');
    return sideBySide(side('- '), side('+ '), { left: 'now', right: 'after Save' });
  }
  return el(
    'pre',
    { class: 'diff plan-diff' },
    ...lines.map((line) => el('span', { class: line.startsWith('+') ? 'add' : line.startsWith('-') ? 'del' : '' }, line)),
  );
}

/**
 * Asks the server for the plan of the editor's text and shows it.
 * @param {{ thenSave?: boolean }} [options]
 * @returns {Promise<boolean>} false when the server has no plan route (Save then saves directly)
 */
async function showPlan(options = {}) {
  const cloud = state.cloud;
  if (!cloud) return false;
  const text = withoutVersionLine(editor.text());
  if (text.trim() === '') {
    banner('bad', 'Nothing to plan: the editor is empty.');
    return true;
  }
  const box = $('plan-box');
  box.hidden = false;
  fill(box, el('p', { class: 'muted' }, 'planning…'));
  banner(null);
  try {
    const res = await api('POST', cloudPath(cloud, '/iam-mapping/plan'), {
      body: text,
      contentType: /^\s*[{[]/.test(text) ? 'application/json' : 'application/yaml',
      expect: [400, 403, 404],
    });
    if (res.status === 404 && /^no route/i.test(res.error?.message ?? '')) {
      state.hasPlan = false;
      clearPlan();
      return false;
    }
    state.hasPlan = true;
    if (res.status === 400) {
      fill(box);
      box.hidden = true;
      const details = res.error?.details ?? [];
      banner(
        'bad',
        `${options.thenSave ? 'Not saved' : 'Nothing planned'}: ${details.length > 1 ? `${details.length} problems` : (res.error?.message ?? 'invalid config')}. They are marked at their lines.`,
      );
      setProblems(details.length ? details : [{ path: '', message: res.error?.message ?? 'invalid config' }]);
      return true;
    }
    if (res.status !== 200) {
      fill(box, el('div', { class: 'banner bad' }, res.error ? `${res.error.code}: ${res.error.message}` : `HTTP ${res.status}`));
      return true;
    }
    state.plannedText = text;
    renderPlan(res.json, options.thenSave === true);
    const warnings = /** @type {ErrorDetail[]} */ (res.json.warnings ?? []);
    setProblems(warnings.map((w) => ({ ...w, warning: true })));
    return true;
  } catch (e) {
    fill(box, el('div', { class: 'banner bad' }, `Could not plan: ${messageOf(e)}`));
    return true;
  }
}

/** @param {any} plan @param {boolean} thenSave */
function renderPlan(plan, thenSave) {
  const changes = /** @type {Array<{action: string, kind: string, name: string, diff?: string, reason?: string, deferred?: boolean}>} */ (plan.changes ?? []);
  const leftAlone = /** @type {Array<{kind: string, name: string, reason: string}>} */ (plan.left_alone ?? []);
  const count = (/** @type {string} */ a) => changes.filter((c) => c.action === a).length;
  const launches = /** @type {any[]} */ (plan.launches ?? []);
  const summary = changes.length
    ? `Plan: ${count('create')} to create, ${count('update')} to change, ${count('delete')} to delete.`
    : 'No changes: provisioning would leave IAM and Kubernetes as they are.';
  const saveButton = el('button', { type: 'button', class: 'primary', id: 'plan-save', onclick: () => save() }, thenSave ? 'Save these changes' : 'Save');
  allow(/** @type {any} */ (saveButton), isOwner() ? null : OWNER_REASON(), 'reason-owner');
  fill(
    $('plan-box'),
    el('h3', { id: 'plan-summary' }, summary),
    el(
      'p',
      { class: 'muted' },
      `Compared with ${plan.current_version ? `version ${plan.current_version}` : 'nothing yet (no config)'} and what IAM and Kubernetes hold now; nothing is stored until you save.`,
      plan.reason ? ` ${plan.reason}` : '',
    ),
    changes.length
      ? el(
          'ul',
          { class: 'plan-changes', id: 'plan-changes' },
          ...changes.map((c) =>
            el(
              'li',
              { class: `plan-change ${c.action}`, dataset: { action: c.action, kind: c.kind } },
              el(
                'div',
                { class: 'plan-head' },
                el('span', { class: `sign ${c.action}` }, ACTION_SIGN[c.action] ?? '?'),
                ` ${c.action} `,
                el('b', {}, c.kind),
                ' ',
                el('code', {}, breakable(c.name)),
                c.deferred ? el('span', { class: 'badge stale' }, 'deferred') : null,
              ),
              c.reason ? el('div', { class: 'muted small' }, c.reason) : null,
              planDiff(c.diff, c.kind),
            ),
          ),
        )
      : null,
    leftAlone.length
      ? el(
          'details',
          { id: 'plan-left-alone' },
          el('summary', {}, `${leftAlone.length} left alone (provisioning would not touch them)`),
          el('ul', {}, ...leftAlone.map((l) => el('li', {}, el('b', {}, l.kind), ' ', el('code', {}, breakable(l.name)), `: ${l.reason}`))),
        )
      : null,
    launches.length
      ? el(
          'h3',
          {},
          `Launches that would change identity (${launches.length}${plan.launches_truncated ? ` + ${plan.launches_truncated} more` : ''} of ${plan.launches_checked ?? '?'} checked)`,
        )
      : null,
    launches.length
      ? el(
          'table',
          { class: 'grid', id: 'plan-launches' },
          el(
            'thead',
            {},
            el(
              'tr',
              {},
              el('th', {}, 'Workload type'),
              el('th', {}, 'Project'),
              el('th', {}, 'User'),
              el('th', {}, 'Now'),
              el('th', {}, 'After Save'),
              el('th', {}, 'From'),
            ),
          ),
          el(
            'tbody',
            {},
            ...launches.map((l) =>
              el(
                'tr',
                {},
                el('td', {}, l.workload_type ?? ''),
                el('td', {}, l.project ?? ''),
                el('td', {}, l.user ?? ''),
                el('td', { class: 'mono' }, l.from ?? (l.from_source === 'NO_MATCH' ? '(no match: fails)' : '(cloud default)')),
                el('td', { class: 'mono' }, l.to ?? (l.to_source === 'NO_MATCH' ? '(no match: fails)' : '(cloud default)')),
                el('td', { class: 'muted' }, l.derived_from ?? ''),
              ),
            ),
          ),
        )
      : null,
    el('div', { class: 'actions row' }, saveButton, el('button', { type: 'button', onclick: () => clearPlan() }, 'Close')),
  );
}

// ---------------------------------------------------------------------------------------------
// History: versions, diff, rollback
// ---------------------------------------------------------------------------------------------

/** @param {import('./diff.js').DiffLine} d */
function diffLine(d) {
  return el('span', { class: d.op === '+' ? 'add' : d.op === '-' ? 'del' : '' }, `${d.op} ${d.text}`);
}

/** @param {number} version */
async function versionText(version) {
  const key = `${state.cloud}@${version}`;
  const cached = state.versionText.get(key);
  if (cached !== undefined) return cached;
  const res = await api('GET', cloudPath(state.cloud ?? '', `/iam-mapping?version=${version}`), { accept: 'application/yaml' });
  const text = withoutVersionLine(res.text);
  state.versionText.set(key, text);
  return text;
}

async function loadHistory() {
  const cloud = state.cloud;
  if (!cloud) return;
  const status = $('history-status');
  status.textContent = 'loading…';
  try {
    const res = await api('GET', cloudPath(cloud, '/iam-mapping/versions'), { expect: [404] });
    if (cloud !== state.cloud) return;
    const versions = /** @type {Array<{version: number, etag: string, created_at: string, created_by: string, rule_count: number}>} */ (
      res.status === 404 ? [] : res.json.versions
    );
    status.textContent = versions.length ? `${versions.length} version${versions.length === 1 ? '' : 's'}, newest first` : 'No versions yet.';
    const current = versions[0];
    $('history-rows').replaceChildren(
      ...versions.map((v, i) => {
        const previous = versions[i + 1];
        const rollback = el(
          'button',
          { type: 'button', class: 'small', disabled: !isOwner() || i === 0, title: isOwner() ? '' : 'needs the owner role' },
          'Roll back',
        );
        rollback.addEventListener('click', () => {
          if (rollback.dataset.armed !== 'yes') {
            rollback.dataset.armed = 'yes';
            rollback.className = 'small danger';
            rollback.textContent = `Confirm: restore v${v.version}`;
            return;
          }
          if (current) rollbackTo(v.version, current.etag);
        });
        return el(
          'tr',
          { dataset: { version: String(v.version) } },
          el('td', {}, `v${v.version} `, i === 0 ? el('span', { class: 'badge' }, 'current') : null),
          el('td', {}, when(v.created_at)),
          el('td', {}, v.created_by),
          el('td', {}, v.rule_count),
          el('td', { class: 'mono' }, v.etag),
          el(
            'td',
            { class: 'actions' },
            el(
              'button',
              { type: 'button', class: 'small', disabled: !previous, onclick: () => previous && showDiff(previous.version, v.version) },
              'Diff vs previous',
            ),
            ' ',
            el(
              'button',
              { type: 'button', class: 'small', disabled: i === 0, onclick: () => current && showDiff(v.version, current.version) },
              'Diff vs current',
            ),
            ' ',
            rollback,
          ),
        );
      }),
    );
    labelCells(/** @type {HTMLTableElement} */ ($('history-rows').closest('table')));
  } catch (e) {
    status.textContent = `Could not load the history: ${messageOf(e)}`;
  }
}

/** @param {number} from @param {number} to */
async function showDiff(from, to) {
  try {
    const [a, b] = await Promise.all([versionText(from), versionText(to)]);
    const diff = lineDiff(a, b);
    const { added, removed } = diffStats(diff);
    $('diff-title').textContent = `v${from} → v${to}: ${added} line${added === 1 ? '' : 's'} added, ${removed} removed`;
    $('diff').replaceChildren(...diff.map(diffLine));
    $('diff-box').hidden = false;
  } catch (e) {
    $('history-status').textContent = `Could not load the diff: ${messageOf(e)}`;
  }
}

/** @param {number} version @param {string} currentEtag */
async function rollbackTo(version, currentEtag) {
  const cloud = state.cloud;
  if (!cloud) return;
  const status = $('history-status');
  try {
    const old = await api('GET', cloudPath(cloud, `/iam-mapping?version=${version}`));
    const { version: _v, ...document } = old.json;
    const res = await api('PUT', cloudPath(cloud, '/iam-mapping'), { body: JSON.stringify(document), ifMatch: `"${currentEtag}"`, expect: [412] });
    if (res.status === 412) {
      status.textContent = 'Not rolled back: someone else saved a version meanwhile. The list is refreshed; look at it and try again.';
      await loadHistory();
      status.textContent = 'Not rolled back: someone else saved a version meanwhile. The list is refreshed; look at it and try again.';
      return;
    }
    await loadHistory();
    fill($('diff'));
    $('diff-title').textContent = '';
    $('diff-box').hidden = true;
    status.textContent = `Rolled back: the content of v${version} is stored as v${res.json.version}; provisioning started.`;
    await loadConfig();
    pollProvisioningInBackground();
  } catch (e) {
    status.textContent = `Not rolled back: ${messageOf(e)}`;
  }
}

$('history-refresh').addEventListener('click', () => loadHistory());

// ---------------------------------------------------------------------------------------------
// What-if
// ---------------------------------------------------------------------------------------------

$('whatif-form').addEventListener('submit', async (/** @type {Event} */ e) => {
  e.preventDefault();
  const cloud = state.cloud;
  if (!cloud) return;
  const out = $('wi-result');
  const launch = { workload_type: $('wi-type').value, project: String($('wi-project').value).trim(), user: String($('wi-user').value).trim() };
  fill(out, el('p', { class: 'muted' }, 'resolving…'));
  try {
    const res = await api('POST', cloudPath(cloud, '/iam-mapping/resolve?explain=true'), { body: JSON.stringify(launch), expect: [400, 403, 404, 422] });
    if (res.status === 200) {
      const a = res.json;
      const trace = /** @type {Array<{rule_index: number, selector: string, matched: boolean, failed_requirement?: string, reason?: string}>} */ (
        a.trace ?? []
      );
      fill(
        out,
        el(
          'dl',
          { class: 'answer', id: 'wi-answer' },
          el('dt', {}, 'Identity'),
          el('dd', { class: 'mono' }, a.value ?? '(the cloud default identity)'),
          el('dt', {}, 'Decided by'),
          el('dd', {}, a.source === 'RULE' ? `rule ${a.rule_index}` : 'no rule matched: fallback_rule CLOUD_DEFAULT'),
          el('dt', {}, 'Config version'),
          el('dd', {}, a.config_version),
        ),
        traceTable(trace.map((t) => ({ rule_index: t.rule_index, selector: t.selector, matched: t.matched, reason: t.reason ?? '' }))),
      );
    } else if (res.status === 422) {
      const details = res.error?.details ?? [];
      fill(
        out,
        el('div', { class: 'banner bad', id: 'wi-answer' }, 'No rule matches and fallback_rule is FAIL: this launch would fail.'),
        traceTable(
          details.map((d) => ({ rule_index: Number(d.rule_index), selector: '', matched: false, reason: String(d.message).replace(/^rule \d+: /, '') })),
        ),
      );
    } else {
      fill(out, el('div', { class: 'banner bad', id: 'wi-answer' }, res.error ? `${res.error.code}: ${res.error.message}` : `HTTP ${res.status}`));
    }
  } catch (err) {
    fill(out, el('div', { class: 'banner bad' }, messageOf(err)));
  }
});

/** @param {Array<{rule_index: number, selector: string, matched: boolean, reason: string}>} rows */
function traceTable(rows) {
  if (rows.length === 0) return el('p', { class: 'muted' }, 'The config has no rules.');
  return el(
    'table',
    { class: 'grid', id: 'wi-trace' },
    el('thead', {}, el('tr', {}, el('th', {}, 'Rule'), el('th', {}, 'Selector'), el('th', {}, 'Result'), el('th', {}, 'Why'))),
    el(
      'tbody',
      {},
      ...rows.map((r) =>
        el(
          'tr',
          {},
          el('td', {}, r.rule_index),
          el('td', {}, el('code', {}, r.selector)),
          el('td', {}, el('span', { class: `badge ${r.matched ? 'MATCH' : ''}` }, r.matched ? 'MATCH' : 'no')),
          el('td', {}, r.matched ? 'first match: this rule decides' : r.reason),
        ),
      ),
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Provisioning
// ---------------------------------------------------------------------------------------------

const ACTIVE = new Set(['PENDING', 'RUNNING']);

function stopProvisioningPoll() {
  if (state.provTimer !== undefined) clearTimeout(state.provTimer);
  state.provTimer = undefined;
}

/** Keeps the Provisioning tab current while a run is active (after a save, or while it is open). */
function pollProvisioningInBackground() {
  stopProvisioningPoll();
  state.provTimer = window.setTimeout(() => loadProvisioning(), 700);
}

async function loadProvisioning() {
  const cloud = state.cloud;
  if (!cloud) return;
  stopProvisioningPoll();
  try {
    const res = await api('GET', cloudPath(cloud, '/iam-mapping/provisioning'), { expect: [404] });
    if (cloud !== state.cloud) return;
    if (res.status === 404) {
      fill($('prov-summary'), 'No config yet: nothing to provision.');
      fill($('prov-body'));
      return;
    }
    state.run = res.json;
    renderRun(res.json);
    updateSaveBanner(res.json);
    if (ACTIVE.has(res.json.status)) state.provTimer = window.setTimeout(() => loadProvisioning(), 1000);
    else if (state.tab === 'map') loadMap();
  } catch (e) {
    fill($('prov-summary'), el('span', { class: 'error-text' }, `Could not load the provisioning status: ${messageOf(e)}`));
  }
}

/** The Save banner follows its run until it ends (no reload needed). @param {any} run */
function updateSaveBanner(run) {
  const live = document.getElementById('save-prov-status');
  if (!live || live.dataset.version !== String(run.config_version)) return;
  live.textContent = run.status;
  live.className = `badge ${run.status}`;
  const detail = document.getElementById('save-prov-detail');
  if (detail) {
    const failed = (run.items ?? []).filter((/** @type {any} */ i) => i.status === 'FAILED').length;
    detail.textContent = ACTIVE.has(run.status)
      ? ' (updating…)'
      : run.status === 'SUCCEEDED'
        ? ` — ${(run.resources ?? []).length} resources in place.`
        : run.status === 'FAILED'
          ? ` — ${failed} item${failed === 1 ? '' : 's'} failed${run.error ? `: ${run.error.message}` : ''}.`
          : '';
  }
}

/** @param {any} run */
function renderRun(run) {
  fill(
    $('prov-summary'),
    `Version ${run.config_version}: `,
    el('span', { class: `badge ${run.status}`, id: 'prov-status' }, run.status),
    run.started_at ? ` started ${when(run.started_at)}` : '',
    run.finished_at ? `, finished ${when(run.finished_at)}` : '',
  );
  const items = /** @type {any[]} */ (run.items ?? []);
  const resources = /** @type {any[]} */ (run.resources ?? []);
  fill(
    $('prov-body'),
    run.reason ? el('p', {}, run.reason) : null,
    run.error ? el('div', { class: 'banner bad' }, `${run.error.name}: ${run.error.message}`) : null,
    el('h3', {}, `Items (${items.length})`),
    items.length
      ? el(
          'table',
          { class: 'grid', id: 'prov-items' },
          el('thead', {}, el('tr', {}, el('th', {}, 'Item'), el('th', {}, 'Kind'), el('th', {}, 'Status'), el('th', {}, 'Error'))),
          el(
            'tbody',
            {},
            ...items.map((i) =>
              el(
                'tr',
                {},
                el('td', { class: 'mono' }, i.name),
                el('td', {}, i.kind),
                el('td', {}, el('span', { class: `badge ${i.status}` }, i.status)),
                el('td', {}, i.error ? `${i.error.name}: ${i.error.message}` : ''),
              ),
            ),
          ),
        )
      : el('p', { class: 'muted' }, ACTIVE.has(run.status) ? 'Planning…' : 'Nothing to provision.'),
    el('h3', {}, `Resources (${resources.length})`),
    resources.length
      ? el(
          'table',
          { class: 'grid', id: 'prov-resources' },
          el('thead', {}, el('tr', {}, el('th', {}, 'Kind'), el('th', {}, 'Name'), el('th', {}, 'Namespace'), el('th', {}, 'Action'), el('th', {}, 'Detail'))),
          el(
            'tbody',
            {},
            ...resources.map((r) =>
              el(
                'tr',
                {},
                el('td', {}, r.kind),
                el('td', { class: 'mono' }, breakable(r.name)),
                el('td', {}, r.namespace ?? ''),
                el('td', {}, r.action),
                el('td', { class: 'mono' }, breakable(r.detail ?? '')),
              ),
            ),
          ),
        )
      : null,
  );
}

$('prov-refresh').addEventListener('click', () => loadProvisioning());

// ---------------------------------------------------------------------------------------------
// Drift
// ---------------------------------------------------------------------------------------------

async function loadDrift() {
  const cloud = state.cloud;
  if (!cloud) return;
  const status = $('drift-status');
  status.textContent = 'loading…';
  try {
    const res = await api('GET', cloudPath(cloud, '/drift-checks/latest'), { expect: [404] });
    if (cloud !== state.cloud) return;
    status.textContent = '';
    if (res.status === 404) {
      state.drift = null;
      updateRepair();
      const noRoute = /no route/i.test(res.error?.message ?? '');
      fill(
        $('drift-report'),
        el('p', { class: 'muted' }, noRoute ? 'This server has no drift checks.' : `No drift report yet.${isOwner() ? ' Run one with “Check now”.' : ''}`),
      );
      return;
    }
    renderDrift(res.json);
  } catch (e) {
    status.textContent = `Could not load the drift report: ${messageOf(e)}`;
  }
}

$('drift-refresh').addEventListener('click', () => loadDrift());

/** @param {boolean} repair */
async function runDrift(repair) {
  const cloud = state.cloud;
  if (!cloud) return;
  const status = $('drift-status');
  $('drift-check').disabled = true;
  $('drift-repair').disabled = true;
  status.textContent = repair ? 'repairing…' : 'checking…';
  try {
    const res = await api('POST', cloudPath(cloud, '/drift-checks'), { body: JSON.stringify(repair ? { repair: true } : {}), expect: [409] });
    if (res.status === 409) {
      status.textContent = `Not checked: ${res.error?.message ?? 'the latest version is still being provisioned'}. Try again when its run has ended.`;
      return;
    }
    let report = res.json;
    if (res.status === 202) {
      // The check outlasted the service's deadline and goes on in the background: wait for its report.
      status.textContent = 'This check takes longer than a request may; it goes on in the background. Waiting for its report…';
      report = await handedOffReport(cloud, res.json.requested_at);
      if (cloud !== state.cloud) return;
      if (!report) {
        status.textContent = 'The check has not reported after 15 minutes; refresh the report later.';
        return;
      }
    }
    const r = report.repair;
    status.textContent = repair
      ? r
        ? `Repair started for ${r.items.length} item${r.items.length === 1 ? '' : 's'}${r.deleted.length ? `, ${r.deleted.length} orphan${r.deleted.length === 1 ? '' : 's'} deleted` : ''}${r.errors.length ? `; errors: ${r.errors.join('; ')}` : ''}. Check again when it has run.`
        : 'Checked just now: nothing to repair.'
      : 'Checked just now.';
    renderDrift(report);
    if (repair && r?.items.length) pollProvisioningInBackground();
  } catch (e) {
    status.textContent = `The check failed: ${messageOf(e)}`;
  } finally {
    $('drift-check').disabled = !isOwner();
    updateRepair();
  }
}

/**
 * The report of a handed-off check: the latest one checked at or after `requestedAt` (polled
 * every 2 s, up to 15 minutes, while the same cloud is shown); null when none came.
 * @param {string} cloud
 * @param {string} requestedAt
 */
async function handedOffReport(cloud, requestedAt) {
  const until = Date.now() + 15 * 60_000;
  while (Date.now() < until && cloud === state.cloud) {
    await new Promise((r) => setTimeout(r, 2000));
    const res = await api('GET', cloudPath(cloud, '/drift-checks/latest'), { expect: [404] });
    if (res.status === 200 && String(res.json.checked_at) >= requestedAt) return res.json;
    // A check that failed in the background stores no report: stop waiting, and say why.
    const background = await api('GET', cloudPath(cloud, '/drift-checks/background'));
    const failed = /** @type {Array<{requested_at: string, status: string, error?: string}>} */ (background.json.checks).find(
      (c) => c.requested_at === requestedAt && c.status === 'failed',
    );
    if (failed) throw new Error(`${failed.error ?? 'no reason given'} (in the background; no report was stored)`);
  }
  return null;
}

$('drift-check').addEventListener('click', () => runDrift(false));
$('drift-repair').addEventListener('click', () => runDrift(true));

/** Repair: owner only, and only when the latest report has findings a repair can fix. */
function updateRepair() {
  const report = state.drift;
  const repairable = report ? /** @type {any[]} */ (report.findings ?? []).filter((f) => f.repairable).length : 0;
  allow(
    $('drift-repair'),
    !isOwner()
      ? OWNER_REASON()
      : !report
        ? 'Run a check first: Repair re-provisions what the latest report found drifted.'
        : !report.drifted
          ? 'Nothing drifted in the latest report.'
          : repairable === 0
            ? 'None of the findings can be repaired by re-provisioning (resources made or changed outside this service are reported only).'
            : null,
    isOwner() ? undefined : 'reason-owner',
  );
  $('drift-repair').textContent = repairable ? `Repair (${repairable})` : 'Repair';
}

const POLICY_KINDS = /policy|trust|statement/i;

/** @param {any} report */
function renderDrift(report) {
  state.drift = report;
  updateRepair();
  const findings = /** @type {any[]} */ (report.findings ?? []);
  const label = report.status ?? (report.drifted ? 'drifted' : 'clean');
  const current = state.version ?? report.latest_version ?? null;
  const stale = typeof report.config_version === 'number' && typeof current === 'number' && report.config_version < current;
  const modeText =
    report.mode === 'repair'
      ? 'repair: the scheduled check re-provisions what drifted'
      : report.mode === 'off'
        ? 'off: no scheduled checks (Check now still works)'
        : 'report: the scheduled check reports, Repair fixes';
  fill(
    $('drift-report'),
    el(
      'dl',
      { class: 'answer', id: 'drift-summary' },
      el('dt', {}, 'Result'),
      el(
        'dd',
        {},
        el(
          'span',
          { class: `badge ${report.drifted ? 'drifted' : 'clean'}`, id: 'drift-result' },
          report.drifted ? `drifted (${findings.length} finding${findings.length === 1 ? '' : 's'})` : label === 'clean' ? 'no drift' : label,
        ),
      ),
      el('dt', {}, 'Checked'),
      el('dd', {}, when(report.checked_at)),
      report.config_version !== undefined ? el('dt', {}, 'Compared with') : null,
      report.config_version !== undefined
        ? el(
            'dd',
            {},
            report.config_version === null ? 'no provisioned version' : `version ${report.config_version}`,
            stale
              ? el(
                  'span',
                  {
                    class: 'badge stale',
                    id: 'drift-stale',
                    title: 'The report compares an older version than the one now current; run a check after its provisioning ends.',
                  },
                  `older than the current version ${current}`,
                )
              : null,
          )
        : null,
      el('dt', {}, 'Drift mode'),
      el(
        'dd',
        {},
        el('span', { class: 'badge', id: 'drift-mode' }, report.mode ?? 'report'),
        ' ',
        el('span', { class: 'muted' }, `${modeText}. Set with provisioning.drift.mode in the config.`),
      ),
      report.reason ? el('dt', {}, 'Note') : null,
      report.reason ? el('dd', {}, report.reason) : null,
    ),
    findings.length
      ? el(
          'div',
          { class: 'scroll' },
          el(
            'table',
            { class: 'grid findings', id: 'drift-findings' },
            el(
              'thead',
              {},
              el(
                'tr',
                {},
                el('th', {}, 'Severity'),
                el('th', {}, 'Kind'),
                el('th', {}, 'Name'),
                el('th', {}, 'Expected'),
                el('th', {}, 'Actual'),
                el('th', {}, 'What changed'),
              ),
            ),
            el(
              'tbody',
              {},
              ...findings.flatMap((f) => {
                const policy = POLICY_KINDS.test(`${f.kind} ${f.resource}`) && typeof f.expected === 'object' && typeof f.actual === 'object';
                const row = el(
                  'tr',
                  {},
                  el('td', {}, f.severity ? el('span', { class: `badge ${f.severity}` }, f.severity) : ''),
                  el('td', {}, f.kind, f.repairable ? null : el('div', { class: 'muted small' }, 'report only')),
                  el('td', { class: 'mono' }, breakable(String(f.name))),
                  policy
                    ? el('td', { colspan: 2, class: 'policy-diff' }, sideBySide(f.expected, f.actual, { left: 'expected', right: 'actual' }))
                    : el('td', {}, el('code', {}, breakable(shown(f.expected)))),
                  policy ? null : el('td', {}, el('code', {}, breakable(shown(f.actual)))),
                  el('td', {}, f.message ?? ''),
                );
                return [row];
              }),
            ),
          ),
        )
      : null,
  );
}

// ---------------------------------------------------------------------------------------------
// Map: rules → identities → roles → ServiceAccounts / instance profiles
// ---------------------------------------------------------------------------------------------

async function loadMap() {
  const cloud = state.cloud;
  if (!cloud) return;
  const status = $('map-status');
  status.textContent = 'loading…';
  try {
    const [config, run, drift] = await Promise.all([
      api('GET', cloudPath(cloud, '/iam-mapping'), { expect: [404] }),
      api('GET', cloudPath(cloud, '/iam-mapping/provisioning'), { expect: [404] }),
      api('GET', cloudPath(cloud, '/drift-checks/latest'), { expect: [404] }),
    ]);
    if (cloud !== state.cloud) return;
    if (config.status === 404) {
      status.textContent = 'No config yet: nothing to draw.';
      fill($('map'));
      return;
    }
    const runJson = run.status === 200 ? run.json : null;
    const driftJson = drift.status === 200 ? drift.json : null;
    renderMap($('map'), mapModel(config.json, runJson, driftJson));
    status.textContent =
      `Version ${config.json.version}` +
      (runJson ? `, provisioning ${runJson.status}${runJson.config_version !== config.json.version ? ` (of version ${runJson.config_version})` : ''}` : '') +
      (driftJson
        ? `, drift ${driftJson.drifted ? `${driftJson.findings.length} finding${driftJson.findings.length === 1 ? '' : 's'}` : 'none'} (checked ${when(driftJson.checked_at)})`
        : ', no drift check yet');
    if (runJson && ACTIVE.has(runJson.status)) pollProvisioningInBackground();
  } catch (e) {
    status.textContent = `Could not draw the map: ${messageOf(e)}`;
  }
}

$('map-refresh').addEventListener('click', () => loadMap());

// ---------------------------------------------------------------------------------------------
// Bindings: clusters pinned by sticky resolution
// ---------------------------------------------------------------------------------------------

async function loadBindings() {
  const cloud = state.cloud;
  if (!cloud) return;
  const status = $('bindings-status');
  status.textContent = 'loading…';
  try {
    const res = await api('GET', cloudPath(cloud, '/iam-mapping/bindings'), { expect: [404] });
    if (cloud !== state.cloud) return;
    const bindings = /** @type {Array<{cluster_id: string, value: string | null, config_version: number, created_at: string}>} */ (
      res.status === 404 ? [] : (res.json ?? [])
    );
    status.textContent = bindings.length ? `${bindings.length} pinned cluster${bindings.length === 1 ? '' : 's'}` : 'No pinned clusters.';
    fill(
      $('bindings'),
      bindings.length
        ? el(
            'table',
            { class: 'grid', id: 'bindings-table' },
            el(
              'thead',
              {},
              el('tr', {}, el('th', {}, 'Cluster'), el('th', {}, 'Identity'), el('th', {}, 'Pinned at version'), el('th', {}, 'Since'), el('th', {})),
            ),
            el(
              'tbody',
              {},
              ...bindings.map((b) => {
                const forget = el('button', { type: 'button', class: 'small', onclick: () => forgetBinding(b.cluster_id) }, 'Forget');
                allow(/** @type {any} */ (forget), isOwner() ? null : OWNER_REASON(), 'reason-owner');
                return el(
                  'tr',
                  { dataset: { cluster: b.cluster_id } },
                  el('td', { class: 'mono' }, breakable(b.cluster_id)),
                  el('td', { class: 'mono' }, b.value === null ? '(the cloud default)' : breakable(b.value)),
                  el(
                    'td',
                    {},
                    `v${b.config_version}`,
                    state.version !== null && b.config_version < state.version ? el('span', { class: 'badge stale' }, `current is v${state.version}`) : null,
                  ),
                  el('td', {}, when(b.created_at)),
                  el('td', { class: 'actions' }, forget),
                );
              }),
            ),
          )
        : null,
    );
  } catch (e) {
    status.textContent = `Could not load the bindings: ${messageOf(e)}`;
  }
}

/** @param {string} clusterId */
async function forgetBinding(clusterId) {
  const cloud = state.cloud;
  if (!cloud) return;
  try {
    await api('DELETE', cloudPath(cloud, `/iam-mapping/bindings/${encodeURIComponent(clusterId)}`), { expect: [404] });
    await loadBindings();
    $('bindings-status').textContent = `Forgot ${clusterId}: its next resolve follows the current version.`;
  } catch (e) {
    $('bindings-status').textContent = `Could not forget ${clusterId}: ${messageOf(e)}`;
  }
}

$('bindings-refresh').addEventListener('click', () => loadBindings());

// ---------------------------------------------------------------------------------------------

if (session.token()) showSignedIn();
else showSignin();
