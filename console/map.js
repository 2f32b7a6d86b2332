// @ts-check
/**
 * A picture of the mapping (SVG, no chart library): rules → identities (rule values) → IAM roles →
 * ServiceAccounts or instance profiles, each node coloured by the provisioning run of the latest
 * version and the latest drift report, so an admin sees at a glance which launches end up where
 * and what is broken. Large configs are cut to the first rules and identities (the rest counted).
 */

const SVG = 'http://www.w3.org/2000/svg';
export const MAX_NODES = 40;
const COLUMN_X = [4, 259, 514, 767];
const NODE_W = 232;
const NODE_H = 26;
const GAP = 8;
const TOP = 34;

/**
 * @typedef {'ok' | 'failed' | 'pending' | 'drift' | 'none'} NodeState
 * @typedef {{ id: string, label: string, title: string, state: NodeState, note?: string }} MapNode
 * @typedef {{ from: string, to: string, state: NodeState }} MapEdge
 * @typedef {{ columns: MapNode[][], edges: MapEdge[], hidden: { rules: number, identities: number } }} MapModel
 */

/** @param {string} arn */
const roleNameOfArn = (arn) => (/^arn:[^:]+:iam::\d+:role\/(?:.*\/)?([^/]+)$/.exec(arn) ?? [])[1];

/**
 * What to draw, from the config, its provisioning run and the drift report (pure: tested as data).
 * @param {any} config the config document (JSON)
 * @param {any} run GET …/provisioning (or null)
 * @param {any} drift GET …/drift-checks/latest (or null)
 * @returns {MapModel}
 */
export function mapModel(config, run, drift) {
  const rules = /** @type {Array<{selector: string, value: string}>} */ (config?.dataplane_iam_mapping?.rules ?? []);
  const mapping = config?.dataplane_iam_mapping ?? {};
  const active = run && (run.status === 'PENDING' || run.status === 'RUNNING');
  const runForThis = run && config && run.config_version === config.version;
  /** @type {Map<string, string>} item name → status */
  const itemStatus = new Map((run?.items ?? []).map((/** @type {any} */ i) => [i.name, i.status]));
  const findings = /** @type {any[]} */ (drift?.findings ?? []);
  const driftedNames = new Set(
    findings
      .flatMap((f) => [
        f.item,
        f.name,
        String(f.name ?? '').split('/')[0],
        String(f.name ?? '')
          .split('/')
          .pop(),
      ])
      .filter(Boolean),
  );

  /** @param {string | undefined} status @returns {NodeState} */
  const fromStatus = (status) =>
    status === 'SUCCEEDED' ? 'ok' : status === 'FAILED' ? 'failed' : active || (runForThis && !status) ? 'pending' : status ? 'pending' : 'none';

  // Identities: distinct values in rule order, then the default value.
  /** @type {Map<string, MapNode>} */
  const identities = new Map();
  const identityNode = (/** @type {string} */ value) => {
    let node = identities.get(value);
    if (!node) {
      const state = driftedNames.has(value) ? 'drift' : fromStatus(itemStatus.get(value));
      node = { id: `id:${value}`, label: value, title: `identity ${value}${itemStatus.has(value) ? ` — provisioning ${itemStatus.get(value)}` : ''}`, state };
      identities.set(value, node);
    }
    return node;
  };

  /** @type {MapNode[]} */
  const ruleNodes = [];
  /** @type {MapEdge[]} */
  const edges = [];
  rules.slice(0, MAX_NODES).forEach((r, i) => {
    const target = identityNode(r.value);
    ruleNodes.push({ id: `rule:${i}`, label: `${i}: ${r.selector || '(matches everything)'}`, title: `rule ${i}: ${r.selector} → ${r.value}`, state: 'none' });
    edges.push({ from: `rule:${i}`, to: target.id, state: target.state });
  });
  const fallbackLabel = mapping.fallback_rule === 'FAIL' ? 'no match: launch fails' : 'no match: cloud default';
  ruleNodes.push({
    id: 'rule:fallback',
    label: fallbackLabel,
    title: `fallback_rule ${mapping.fallback_rule ?? ''}`,
    state: mapping.fallback_rule === 'FAIL' ? 'failed' : 'none',
  });
  if (mapping.default_value) {
    const target = identityNode(mapping.default_value);
    edges.push({ from: 'rule:fallback', to: target.id, state: target.state });
  }
  for (const r of rules.slice(MAX_NODES)) if (identities.size < MAX_NODES) identityNode(r.value);

  // Roles and the ServiceAccounts / instance profiles that use them, from the run's resources.
  /** @type {Map<string, MapNode>} */
  const roles = new Map();
  /** @type {Map<string, MapNode>} */
  const targets = new Map();
  let currentRole = /** @type {string | undefined} */ (undefined);
  for (const res of /** @type {any[]} */ (run?.resources ?? [])) {
    if (res.kind === 'iam-role') {
      currentRole = res.name;
      continue;
    }
    if (res.kind !== 'service-account' && res.kind !== 'instance-profile') continue;
    const value = String(res.name);
    const identity = identities.get(value);
    if (!identity) continue;
    const roleName = (typeof res.detail === 'string' && roleNameOfArn(res.detail)) || currentRole;
    const targetId = `${res.kind}:${res.namespace ?? ''}/${value}`;
    const failed = res.action === 'failed';
    const targetState = driftedNames.has(value) || driftedNames.has(`${res.namespace}/${value}`) ? 'drift' : failed ? 'failed' : identity.state;
    if (!targets.has(targetId)) {
      targets.set(targetId, {
        id: targetId,
        label: res.kind === 'service-account' ? `${res.namespace ?? ''}/${value}` : `profile ${value}`,
        title: `${res.kind} ${res.namespace ? `${res.namespace}/` : ''}${value}${res.cluster ? ` on ${res.cluster}` : ''}: ${res.action}`,
        state: targetState,
        note: res.kind === 'service-account' ? 'SA' : 'IP',
      });
    }
    if (roleName) {
      if (!roles.has(roleName)) {
        const roleState = driftedNames.has(roleName) ? 'drift' : identity.state;
        roles.set(roleName, { id: `role:${roleName}`, label: roleName, title: `IAM role ${roleName}`, state: roleState });
      }
      const role = /** @type {MapNode} */ (roles.get(roleName));
      if (!edges.some((e) => e.from === identity.id && e.to === role.id)) edges.push({ from: identity.id, to: role.id, state: role.state });
      edges.push({ from: role.id, to: targetId, state: targetState });
    } else {
      edges.push({ from: identity.id, to: targetId, state: targetState });
    }
  }
  const identityList = [...identities.values()].slice(0, MAX_NODES);
  const distinct = new Set(rules.map((r) => r.value));
  if (mapping.default_value) distinct.add(mapping.default_value);
  return {
    columns: [ruleNodes, identityList, [...roles.values()].slice(0, MAX_NODES), [...targets.values()].slice(0, MAX_NODES)],
    edges,
    hidden: { rules: Math.max(0, rules.length - MAX_NODES), identities: Math.max(0, distinct.size - identityList.length) },
  };
}

/**
 * @param {string} tag
 * @param {Record<string, string | number>} attrs
 * @param {...(Node | string)} children
 */
function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  node.append(...children);
  return node;
}

/** Long identifiers keep their start and their distinctive end. @param {string} s @param {number} n */
const clip = (s, n) => (s.length > n ? `${s.slice(0, Math.ceil((n - 1) / 2))}…${s.slice(s.length - Math.floor((n - 1) / 2))}` : s);

/**
 * Draws the model into `container` (replacing what was there).
 * @param {HTMLElement} container
 * @param {MapModel} model
 */
export function renderMap(container, model) {
  const rows = Math.max(1, ...model.columns.map((c) => c.length));
  const height = TOP + rows * (NODE_H + GAP) + 10;
  const root = svg('svg', {
    viewBox: `0 0 1000 ${height}`,
    width: '100%',
    role: 'img',
    'aria-label': 'Mapping: rules to identities to IAM roles to ServiceAccounts',
    id: 'map-svg',
  });
  const heads = ['Rules (first match wins)', 'Identities', 'IAM roles', 'ServiceAccounts / profiles'];
  heads.forEach((h, i) => root.append(svg('text', { x: COLUMN_X[i] ?? 0, y: 18, class: 'map-head' }, h)));
  /** @type {Map<string, { x: number, y: number }>} */
  const at = new Map();
  model.columns.forEach((column, c) => column.forEach((node, r) => at.set(node.id, { x: COLUMN_X[c] ?? 0, y: TOP + r * (NODE_H + GAP) })));
  const edges = svg('g', { class: 'map-edges' });
  for (const e of model.edges) {
    const a = at.get(e.from);
    const b = at.get(e.to);
    if (!a || !b) continue;
    const x1 = a.x + NODE_W;
    const y1 = a.y + NODE_H / 2;
    const x2 = b.x;
    const y2 = b.y + NODE_H / 2;
    const mid = (x1 + x2) / 2;
    edges.append(svg('path', { d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`, class: `map-edge ${e.state}` }));
  }
  root.append(edges);
  model.columns.forEach((column, c) => {
    for (const node of column) {
      const p = /** @type {{x: number, y: number}} */ (at.get(node.id));
      root.append(
        svg(
          'g',
          { class: `map-node ${node.state}`, 'data-id': node.id, 'data-state': node.state, 'data-column': c, transform: `translate(${p.x},${p.y})` },
          svg('title', {}, node.title),
          svg('rect', { width: NODE_W, height: NODE_H, rx: 5 }),
          svg('text', { x: 8, y: 17 }, clip(node.label, 28)),
        ),
      );
    }
  });
  /** @type {Node[]} */
  const notes = [];
  if (model.hidden.rules || model.hidden.identities) {
    const p = document.createElement('p');
    p.className = 'muted';
    p.id = 'map-hidden';
    p.textContent = `Showing the first ${MAX_NODES} rules and identities: ${model.hidden.rules} more rule${model.hidden.rules === 1 ? '' : 's'} and ${model.hidden.identities} more identit${model.hidden.identities === 1 ? 'y' : 'ies'} not drawn.`;
    notes.push(p);
  }
  const legend = document.createElement('p');
  legend.className = 'map-legend';
  for (const [state, label] of [
    ['ok', 'provisioned'],
    ['pending', 'provisioning'],
    ['failed', 'failed'],
    ['drift', 'drifted'],
    ['none', 'not provisioned / rule'],
  ]) {
    const item = document.createElement('span');
    item.className = `legend ${state}`;
    item.textContent = label;
    legend.append(item);
  }
  const scroller = document.createElement('div');
  scroller.className = 'map-scroll';
  scroller.append(root);
  container.replaceChildren(scroller, legend, ...notes);
}
