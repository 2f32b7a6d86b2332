// @ts-check
/**
 * The web console: plain ES modules, no build step. Everything it shows comes from the HTTP API
 * (same origin) with the pasted token; it never renders server text as HTML (textContent only).
 */
import { ApiError, api, cloudPath, describeToken, session, whenUnauthorized } from './api.js';
import { diffStats, lineDiff } from './diff.js';

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
  return node;
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
  /** @type {Map<number, { message: string }[]>} problems by line */ problemLines: new Map(),
  lineCount: 0,
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
  const cloud = session.cloud();
  if (cloud) {
    $('cloud').value = cloud;
    openCloud(cloud);
  } else $('cloud').focus();
}

function applyRoles() {
  const owner = isOwner();
  for (const id of ['save', 'example', 'drift-check']) {
    $(id).disabled = !owner;
    $(id).title = owner ? '' : 'needs the owner role';
  }
  $('wi-run').disabled = !canResolve();
  $('wi-run').title = canResolve() ? '' : 'needs the owner or control-plane role';
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
  loadConfig();
  selectTab(state.tab);
}

for (const tab of document.querySelectorAll('[data-tab]')) {
  tab.addEventListener('click', () => selectTab(/** @type {HTMLElement} */ (tab).dataset.tab ?? 'config'));
}

/** @param {string} name */
function selectTab(name) {
  state.tab = name;
  for (const tab of document.querySelectorAll('[data-tab]')) tab.setAttribute('aria-selected', String(/** @type {HTMLElement} */ (tab).dataset.tab === name));
  for (const panel of document.querySelectorAll('.tab')) /** @type {HTMLElement} */ (panel).hidden = panel.id !== `tab-${name}`;
  if (name === 'history') loadHistory();
  if (name === 'provisioning') loadProvisioning();
  if (name === 'drift') loadDrift();
}

// ---------------------------------------------------------------------------------------------
// Config editor
// ---------------------------------------------------------------------------------------------

const editor = /** @type {HTMLTextAreaElement} */ ($('yaml'));
const gutter = /** @type {HTMLElement} */ ($('gutter'));

/** The read-only `version:` line of a GET is not part of the config; blanked (line numbers stay). */
const withoutVersionLine = (/** @type {string} */ text) => text.replace(/^version:[ \t]*\d+[ \t]*$/m, '');

function renderGutter(force = false) {
  const count = editor.value.split('\n').length;
  if (!force && count === state.lineCount) return;
  state.lineCount = count;
  const spans = [];
  for (let i = 1; i <= count; i++) {
    const problems = state.problemLines.get(i);
    spans.push(problems ? el('span', { class: 'err', title: problems.map((p) => p.message).join('\n') }, i) : el('span', {}, i));
  }
  gutter.replaceChildren(...spans);
  gutter.scrollTop = editor.scrollTop;
}

editor.addEventListener('input', () => renderGutter());
editor.addEventListener('scroll', () => {
  gutter.scrollTop = editor.scrollTop;
});

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
      editor.value = '';
      banner(
        'warn',
        `Cloud ${cloud} has no IAM mapping config yet. Paste one (YAML or JSON, as \`anyscale cloud config get\` prints it) or insert the example, then Save.`,
      );
    } else {
      state.etag = res.headers.get('etag');
      const m = /^version:[ \t]*(\d+)[ \t]*$/m.exec(res.text);
      state.version = m ? Number(m[1]) : null;
      editor.value = withoutVersionLine(res.text).replace(/\n+$/, '\n');
    }
    setStatus();
    renderGutter(true);
  } catch (e) {
    $('config-status').textContent = '';
    banner('bad', `Could not load the config: ${messageOf(e)}`);
  }
}

$('reload').addEventListener('click', () => loadConfig());

$('example').addEventListener('click', () => {
  const example = EKS_EXAMPLE.replace('CLOUD', state.cloud ?? 'cldrsrc_XXXX');
  const put = () => {
    editor.value = example;
    renderGutter(true);
    banner(null);
  };
  if (editor.value.trim() === '') put();
  else banner('warn', 'The editor is not empty.', [el('button', { type: 'button', onclick: put }, 'Replace my text with the example')]);
});

$('save').addEventListener('click', () => save());

async function save() {
  const cloud = state.cloud;
  if (!cloud) return;
  const text = withoutVersionLine(editor.value);
  if (text.trim() === '') return banner('bad', 'Nothing to save: the editor is empty.');
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
      banner('ok', `Saved as version ${res.json.version}. Provisioning ${res.json.provisioning?.status ?? 'PENDING'}: see the Provisioning tab.`, [
        el('button', { type: 'button', onclick: () => selectTab('provisioning') }, 'Show provisioning'),
      ]);
      setProblems(warnings.map((w) => ({ ...w, warning: true })));
      state.versionText.clear();
      pollProvisioningInBackground();
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
    const diff = lineDiff(theirs, withoutVersionLine(editor.value));
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
 * Where a problem is: line and column, the selector's character when `position` is given.
 * @param {ErrorDetail} d
 * @returns {{ line: number, column: number } | null}
 */
function pointOf(d) {
  if (typeof d.line !== 'number') return null;
  let column = typeof d.column === 'number' ? d.column : 1;
  if (typeof d.position === 'number') {
    const text = editor.value.split('\n')[d.line - 1] ?? '';
    const quoted = text[column - 1] === '"' || text[column - 1] === "'";
    column += d.position + (quoted ? 1 : 0);
  }
  return { line: d.line, column };
}

/** @param {Array<ErrorDetail & { warning?: boolean, code?: string }>} problems */
function setProblems(problems) {
  state.problemLines = new Map();
  const list = $('config-problems');
  const items = problems.map((p) => {
    const at = pointOf(p);
    if (at && !p.warning) state.problemLines.set(at.line, [...(state.problemLines.get(at.line) ?? []), { message: p.message }]);
    const where = at ? `line ${at.line}, col ${at.column}` : p.rule_index !== undefined ? `rule ${p.rule_index}` : p.path || 'config';
    return el(
      'li',
      { class: p.warning ? 'warning' : 'error', dataset: at ? { line: String(at.line) } : {} },
      el(at ? 'button' : 'span', { class: 'where link', type: 'button', onclick: at ? () => goTo(at.line, at.column) : undefined }, where),
      p.code ? `${p.code}: ` : '',
      p.path && at ? `${p.path}: ` : '',
      p.message,
    );
  });
  list.replaceChildren(...items);
  renderGutter(true);
}

/** @param {number} line @param {number} column */
function goTo(line, column) {
  const lines = editor.value.split('\n');
  let offset = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
  const lineText = lines[line - 1] ?? '';
  editor.focus();
  editor.setSelectionRange(offset + Math.min(column - 1, lineText.length), offset + lineText.length);
  editor.scrollTop = Math.max(0, (line - 5) * 18);
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
    renderRun(res.json);
    if (ACTIVE.has(res.json.status)) state.provTimer = window.setTimeout(() => loadProvisioning(), 1000);
  } catch (e) {
    fill($('prov-summary'), el('span', { class: 'error-text' }, `Could not load the provisioning status: ${messageOf(e)}`));
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
                el('td', { class: 'mono' }, r.name),
                el('td', {}, r.namespace ?? ''),
                el('td', {}, r.action),
                el('td', { class: 'mono' }, r.detail ?? ''),
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

$('drift-check').addEventListener('click', async () => {
  const cloud = state.cloud;
  if (!cloud) return;
  const status = $('drift-status');
  $('drift-check').disabled = true;
  status.textContent = 'checking…';
  try {
    const res = await api('POST', cloudPath(cloud, '/drift-checks'));
    status.textContent = 'Checked just now.';
    renderDrift(res.json);
  } catch (e) {
    status.textContent = `The check failed: ${messageOf(e)}`;
  } finally {
    $('drift-check').disabled = !isOwner();
  }
});

/** @param {any} report */
function renderDrift(report) {
  const findings = /** @type {any[]} */ (report.findings ?? []);
  const label = report.status ?? (report.drifted ? 'drifted' : 'clean');
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
      report.config_version !== undefined ? el('dd', {}, report.config_version === null ? 'no provisioned version' : `version ${report.config_version}`) : null,
      report.reason ? el('dt', {}, 'Note') : null,
      report.reason ? el('dd', {}, report.reason) : null,
    ),
    findings.length
      ? el(
          'table',
          { class: 'grid', id: 'drift-findings' },
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
            ...findings.map((f) =>
              el(
                'tr',
                {},
                el('td', {}, f.severity ? el('span', { class: `badge ${f.severity}` }, f.severity) : ''),
                el('td', {}, f.kind),
                el('td', { class: 'mono' }, f.name),
                el('td', {}, el('code', {}, shown(f.expected))),
                el('td', {}, el('code', {}, shown(f.actual))),
                el('td', {}, f.message ?? ''),
              ),
            ),
          ),
        )
      : null,
  );
}

// ---------------------------------------------------------------------------------------------

if (session.token()) showSignedIn();
else showSignin();
