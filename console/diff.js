// @ts-check
/** A line diff for the version history: common prefix/suffix, then an LCS of the middle. */

/** @typedef {{ op: ' ' | '-' | '+', text: string, a?: number, b?: number }} DiffLine */

const MAX_CELLS = 4_000_000;

/**
 * @param {string} before
 * @param {string} after
 * @returns {DiffLine[]}
 */
export function lineDiff(before, after) {
  const a = splitLines(before);
  const b = splitLines(after);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  /** @type {DiffLine[]} */
  const out = [];
  for (let i = 0; i < start; i++) out.push({ op: ' ', text: a[i], a: i + 1, b: i + 1 });
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  if (midA.length * midB.length > MAX_CELLS) {
    midA.forEach((t, i) => out.push({ op: '-', text: t, a: start + i + 1 }));
    midB.forEach((t, j) => out.push({ op: '+', text: t, b: start + j + 1 }));
  } else {
    for (const d of lcs(midA, midB)) out.push({ ...d, a: d.a === undefined ? undefined : d.a + start, b: d.b === undefined ? undefined : d.b + start });
  }
  for (let i = endA, j = endB; i < a.length; i++, j++) out.push({ op: ' ', text: a[i], a: i + 1, b: j + 1 });
  return out;
}

/** @param {string} s */
function splitLines(s) {
  const lines = s.replace(/\r\n/g, '\n').split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * @param {string[]} a
 * @param {string[]} b
 * @returns {DiffLine[]} (line numbers 1-based within a and b)
 */
function lcs(a, b) {
  const n = a.length;
  const m = b.length;
  const w = m + 1;
  const table = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i * w + j] = a[i] === b[j] ? table[(i + 1) * w + j + 1] + 1 : Math.max(table[(i + 1) * w + j], table[i * w + j + 1]);
    }
  }
  /** @type {DiffLine[]} */
  const out = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push({ op: ' ', text: a[i], a: i + 1, b: j + 1 });
      i++;
      j++;
    } else if (table[(i + 1) * w + j] >= table[i * w + j + 1]) {
      out.push({ op: '-', text: a[i], a: i + 1 });
      i++;
    } else {
      out.push({ op: '+', text: b[j], b: j + 1 });
      j++;
    }
  }
  for (; i < n; i++) out.push({ op: '-', text: a[i], a: i + 1 });
  for (; j < m; j++) out.push({ op: '+', text: b[j], b: j + 1 });
  return out;
}

/** @param {DiffLine[]} diff */
export function diffStats(diff) {
  return { added: diff.filter((d) => d.op === '+').length, removed: diff.filter((d) => d.op === '-').length };
}
