// @ts-check
/** Small pieces of the console's views: break points in long identifiers, side-by-side diffs. */
import { lineDiff } from './diff.js';

/**
 * Text that may wrap at its natural joints: a <wbr> after `/`, `:`, `,` and `=` (after the last of a
 * run, so `::` stays whole), so an ARN
 * or a long path breaks between its parts, never inside a word (CSS overflow-wrap:anywhere is
 * the last resort for a part longer than the column).
 * @param {string} text
 * @returns {DocumentFragment}
 */
export function breakable(text) {
  const out = document.createDocumentFragment();
  let last = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if ((c === '/' || c === ':' || c === ',' || c === '=') && text[i + 1] !== c) {
      out.append(text.slice(last, i + 1), document.createElement('wbr'));
      last = i + 1;
    }
  }
  out.append(text.slice(last));
  return out;
}

/** @param {unknown} v */
export const pretty = (v) => (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v, null, 2));

/**
 * Two values as a side-by-side line diff (left: before/expected, right: after/actual): equal
 * lines on both sides, removed lines left only, added lines right only, changes paired on one row.
 * @param {unknown} before
 * @param {unknown} after
 * @param {{ left?: string, right?: string }} [labels]
 * @returns {HTMLTableElement}
 */
export function sideBySide(before, after, labels = {}) {
  const diff = lineDiff(pretty(before), pretty(after));
  /** @type {Array<[string | null, string | null, 'same' | 'changed']>} */
  const rows = [];
  for (let i = 0; i < diff.length;) {
    const d = diff[i];
    if (d.op === ' ') {
      rows.push([d.text, d.text, 'same']);
      i++;
      continue;
    }
    const removed = [];
    const added = [];
    while (i < diff.length && diff[i].op === '-') removed.push(diff[i++].text);
    while (i < diff.length && diff[i].op === '+') added.push(diff[i++].text);
    for (let k = 0; k < Math.max(removed.length, added.length); k++) rows.push([removed[k] ?? null, added[k] ?? null, 'changed']);
  }
  const table = document.createElement('table');
  table.className = 'side-by-side';
  const head = table.createTHead().insertRow();
  for (const label of [labels.left ?? 'before', labels.right ?? 'after']) {
    const th = document.createElement('th');
    th.textContent = label;
    head.append(th);
  }
  const body = table.createTBody();
  for (const [l, r, kind] of rows) {
    const tr = body.insertRow();
    for (const [side, text] of /** @type {const} */ ([
      ['del', l],
      ['add', r],
    ])) {
      const td = tr.insertCell();
      td.className = text === null ? 'empty' : kind === 'changed' ? side : '';
      if (text !== null) td.append(breakable(text));
    }
  }
  return table;
}
