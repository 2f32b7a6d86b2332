// @ts-check
/**
 * The config editor: CodeMirror 6 with YAML highlighting, completion of the config's keys and of
 * `workload-type` (and the other enum) values, and diagnostics at their line and column as you
 * type. The checking runs in a Web Worker (worker.js: the server's own parse + validation + lint
 * from lib/config, bundled for the browser), so a 25,000-rule config never blocks typing; the
 * server's answer to Save / Plan is shown the same way.
 */
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { yaml } from '@codemirror/lang-yaml';
import { bracketMatching, defaultHighlightStyle, foldGutter, foldKeymap, indentOnInput, syntaxHighlighting } from '@codemirror/language';
import { lintGutter, lintKeymap, setDiagnostics } from '@codemirror/lint';
import { highlightSelectionMatches, searchKeymap } from '@codemirror/search';
import { Compartment, EditorState, RangeSet, StateEffect, StateField } from '@codemirror/state';
import {
  Decoration,
  EditorView,
  GutterMarker,
  MatchDecorator,
  ViewPlugin,
  drawSelection,
  gutterLineClass,
  highlightActiveLine,
  highlightActiveLineGutter,
  keymap,
  lineNumbers,
} from '@codemirror/view';
import { CLOUD_PROVIDERS, COMPUTE_STACKS, FALLBACK_RULES, LABEL_KEYS, WORKLOAD_TYPES } from '../lib/config/constants.js';

/**
 * @typedef {{ severity: 'error' | 'warning', path: string, message: string, code?: string, line?: number,
 *   column?: number, rule_index?: number, position?: number }} Problem
 * @typedef {{ id: number, problems: Problem[], rules: number, ms: number }} ValidateReply
 */

// ---------------------------------------------------------------------------------------------
// Lines with an error: their line number is marked (class `err` on the gutter element).
// ---------------------------------------------------------------------------------------------

const errorLineMarker = new (class extends GutterMarker {
  elementClass = 'err';
})();

/** @type {import('@codemirror/state').StateEffectType<number[]>} */
const setErrorLines = StateEffect.define();

const errorLines = StateField.define({
  create: () => /** @type {RangeSet<GutterMarker>} */ (RangeSet.empty),
  update(set, tr) {
    set = set.map(tr.changes);
    for (const e of tr.effects) {
      if (e.is(setErrorLines)) {
        const doc = tr.state.doc;
        const lines = [...new Set(e.value)].filter((n) => n >= 1 && n <= doc.lines).sort((a, b) => a - b);
        set = RangeSet.of(lines.map((n) => errorLineMarker.range(doc.line(n).from)));
      }
    }
    return set;
  },
  provide: (f) => gutterLineClass.from(f),
});

// ---------------------------------------------------------------------------------------------
// Completion
// ---------------------------------------------------------------------------------------------

/** @type {Record<string, Array<{ label: string, detail: string }>>} keys by the indentation they sit at */
const KEYS = {
  top: [
    { label: 'cloud_deployment_id', detail: 'the cloud, e.g. cldrsrc_XXXX' },
    { label: 'cloud_provider', detail: CLOUD_PROVIDERS.join(' | ') },
    { label: 'compute_stack', detail: COMPUTE_STACKS.join(' | ') },
    { label: 'dataplane_iam_mapping', detail: 'rules, fallback_rule, default_value' },
    { label: 'provisioning', detail: 'role names, namespaces, drift mode (optional)' },
  ],
  mapping: [
    { label: 'rules', detail: 'ordered; first match wins' },
    { label: 'fallback_rule', detail: FALLBACK_RULES.join(' | ') },
    { label: 'default_value', detail: 'identity when no rule matches' },
  ],
  rule: [
    { label: 'selector', detail: 'workload-type in (job), user=…' },
    { label: 'value', detail: 'the identity' },
  ],
};

/** @type {Record<string, readonly string[]>} */
const ENUMS = { cloud_provider: CLOUD_PROVIDERS, compute_stack: COMPUTE_STACKS, fallback_rule: FALLBACK_RULES, mode: ['off', 'report', 'repair'] };

/** @param {import('@codemirror/autocomplete').CompletionContext} context */
function completeConfig(context) {
  const line = context.state.doc.lineAt(context.pos);
  const before = line.text.slice(0, context.pos - line.from);
  // A value after `key: `
  const keyValue = /^\s*(?:-\s+)?([A-Za-z_-]+):\s+(.*)$/.exec(before);
  if (keyValue) {
    const [, key, rest] = keyValue;
    if (key === 'selector') return completeSelector(context, rest);
    const values = ENUMS[key];
    if (!values) return null;
    const word = /[A-Za-z_]*$/.exec(rest)?.[0] ?? '';
    return { from: context.pos - word.length, options: values.map((v) => ({ label: v, type: 'enum' })), validFor: /^[A-Za-z_]*$/ };
  }
  // A key at the start of a line
  const keyStart = /^(\s*)(-\s+)?([A-Za-z_]*)$/.exec(before);
  if (!keyStart) return null;
  const [, indent, dash, word] = keyStart;
  if (!context.explicit && word === '' && !dash) return null;
  const depth = indent.length + (dash ? dash.length : 0);
  const keys = depth === 0 ? KEYS.top : dash || depth >= 4 ? KEYS.rule : KEYS.mapping;
  return {
    from: context.pos - word.length,
    options: keys.map((k) => ({ label: k.label, detail: k.detail, type: 'property', apply: `${k.label}: ` })),
    validFor: /^[A-Za-z_]*$/,
  };
}

/**
 * Inside a selector: label keys where a requirement starts, `workload-type` values after its operator.
 * @param {import('@codemirror/autocomplete').CompletionContext} context
 * @param {string} selectorSoFar
 */
function completeSelector(context, selectorSoFar) {
  const text = selectorSoFar.replace(/^["']/, '');
  // The requirement being typed: after the last comma that is not inside parentheses.
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') depth = Math.max(0, depth - 1);
    else if (text[i] === ',' && depth === 0) start = i + 1;
  }
  const requirement = text.slice(start);
  const word = /[A-Za-z@._-]*$/.exec(requirement)?.[0] ?? '';
  const from = context.pos - word.length;
  if (/^\s*!?[A-Za-z_-]*$/.test(requirement)) {
    return { from, options: LABEL_KEYS.map((k) => ({ label: k, type: 'keyword' })), validFor: /^[A-Za-z_-]*$/ };
  }
  if (/^\s*workload-type\s*(?:==?|!=|\s(?:not)?in\s*\((?:[^)]*,)?)\s*[A-Za-z]*$/.test(requirement)) {
    return { from, options: WORKLOAD_TYPES.map((t) => ({ label: t, type: 'enum', detail: 'workload-type' })), validFor: /^[A-Za-z]*$/ };
  }
  if (/^\s*workload-type\s*$/.test(requirement) || /^\s*workload-type\s+[a-z]*$/.test(requirement)) {
    return { from, options: ['in', 'notin', '=', '!='].map((o) => ({ label: o, type: 'keyword' })) };
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Highlighting of very large documents
// ---------------------------------------------------------------------------------------------

/**
 * Past this size the YAML parser is swapped for a highlighter of the visible lines only: a
 * syntax tree must be parsed from the top, and CodeMirror parses in main-thread slices of up
 * to 100 ms, so typing at the end of a 25,000-rule config would stutter until the whole document
 * is parsed. Keys, list dashes and comments are still coloured; folding needs the tree.
 */
export const LARGE_DOCUMENT = 300_000;

const keyMark = Decoration.mark({ class: 'cm-yaml-key' });
const commentMark = Decoration.mark({ class: 'cm-yaml-comment' });
const lightHighlighter = new MatchDecorator({
  regexp: /^(\s*(?:-\s+)?)([A-Za-z_][\w-]*)(?=:)|(#.*)$/g,
  decorate: (add, from, _to, match) => {
    if (match[3]) add(from, from + match[0].length, commentMark);
    else add(from + match[1].length, from + match[1].length + match[2].length, keyMark);
  },
});
const lightYaml = ViewPlugin.define(
  (view) => ({
    decorations: lightHighlighter.createDeco(view),
    update(u) {
      this.decorations = lightHighlighter.updateDeco(u, this.decorations);
    },
  }),
  {
    decorations: (v) => v.decorations,
  },
);

// ---------------------------------------------------------------------------------------------
// The editor
// ---------------------------------------------------------------------------------------------

const theme = EditorView.theme({
  '&': { height: '100%', fontSize: '13px', backgroundColor: '#fff' },
  '.cm-scroller': { fontFamily: 'var(--mono)', lineHeight: '18px' },
  '.cm-gutters': { backgroundColor: '#f0f2f5', borderRight: '1px solid var(--line)', color: 'var(--muted)' },
  '.cm-lineNumbers .cm-gutterElement.err': { color: '#fff', backgroundColor: 'var(--bad)', borderRadius: '3px' },
  '&.cm-focused': { outline: 'none' },
  '.cm-yaml-key': { color: '#00c' },
  '.cm-yaml-comment': { color: '#940' },
});

/**
 * Where a problem is in the text (a selector's `position` counts from the selector's first
 * character, after an opening quote).
 * @param {import('@codemirror/state').Text} doc
 * @param {Problem} p
 * @returns {{ line: number, column: number, from: number, to: number } | null}
 */
export function locateProblem(doc, p) {
  if (typeof p.line !== 'number' || p.line < 1 || p.line > doc.lines) return null;
  const line = doc.line(p.line);
  let column = typeof p.column === 'number' ? p.column : 1;
  if (typeof p.position === 'number') {
    const ch = line.text[column - 1];
    column += p.position + (ch === '"' || ch === "'" ? 1 : 0);
  }
  const from = line.from + Math.min(Math.max(column - 1, 0), line.length);
  // Underline the word at the point (at least one character, up to the end of the line).
  const rest = line.text.slice(from - line.from);
  const word = /^[^\s,()]+/.exec(rest)?.[0].length ?? 0;
  const to = Math.min(line.to, from + Math.max(word, 1));
  return { line: p.line, column, from, to: to > from ? to : Math.min(line.to, from + 1) };
}

/**
 * @param {HTMLElement} parent
 * @param {{ workerUrl: string | URL, cloudId: () => string | null, onProblems: (problems: Problem[], reply: ValidateReply | null, source: 'browser' | 'server') => void, onReady?: () => void }} options
 */
export function createEditor(parent, options) {
  /** @type {Worker | null} */
  let worker = null;
  let latest = 0;
  /** The id of the check the worker is running (one at a time: typing during a long check of a
   * big config queues nothing; the newest text is checked when it is done). */
  let inFlight = 0;
  let dirty = false;
  /** @type {number | undefined} */
  let timer;
  /** @type {Map<number, (r: ValidateReply) => void>} */
  const waiting = new Map();
  try {
    worker = new Worker(options.workerUrl);
    worker.onmessage = (/** @type {MessageEvent<ValidateReply>} */ e) => {
      inFlight = 0;
      const resolve = waiting.get(e.data.id);
      waiting.delete(e.data.id);
      resolve?.(e.data);
      if (dirty) {
        dirty = false;
        schedule(0);
      } else if (e.data.id === latest) show(e.data.problems, e.data, 'browser');
    };
  } catch {
    worker = null; // the server still validates on Save and Plan
  }

  const language = new Compartment();
  let large = false;
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: '',
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        foldGutter(),
        lintGutter(),
        errorLines,
        history(),
        drawSelection(),
        indentOnInput(),
        bracketMatching(),
        closeBrackets(),
        highlightActiveLine(),
        highlightSelectionMatches(),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        language.of(yaml()),
        autocompletion({ override: [completeConfig], icons: false }),
        keymap.of([
          indentWithTab,
          ...closeBracketsKeymap,
          ...defaultKeymap,
          ...searchKeymap,
          ...historyKeymap,
          ...foldKeymap,
          ...completionKeymap,
          ...lintKeymap,
        ]),
        EditorState.tabSize.of(2),
        EditorView.contentAttributes.of({ id: 'yaml', 'aria-label': 'Mapping config (YAML)', spellcheck: 'false', autocorrect: 'off', autocapitalize: 'off' }),
        theme,
        EditorView.updateListener.of((u) => {
          if (u.docChanged) schedule();
        }),
      ],
    }),
  });

  /** A pause in typing (longer for a long document, whose check takes longer), then a check. */
  function schedule(delay = Math.min(150 + view.state.doc.lines / 100, 800)) {
    if (!worker) return;
    clearTimeout(timer);
    if (inFlight) {
      dirty = true;
      return;
    }
    timer = window.setTimeout(() => void validateNow(), delay);
  }

  /** @returns {Promise<ValidateReply | null>} the browser's check of the current text */
  function validateNow() {
    clearTimeout(timer);
    if (!worker) return Promise.resolve(null);
    const id = ++latest;
    inFlight = id;
    const w = worker;
    return new Promise((resolve) => {
      waiting.set(id, resolve);
      w.postMessage({ id, text: view.state.doc.toString(), cloudId: options.cloudId() ?? undefined });
    });
  }

  /**
   * Shows problems as diagnostics (underline, gutter marker, tooltip) and marks their lines.
   * @param {Problem[]} problems
   * @param {ValidateReply | null} reply
   * @param {'browser' | 'server'} source
   */
  function show(problems, reply, source) {
    const doc = view.state.doc;
    /** @type {import('@codemirror/lint').Diagnostic[]} */
    const diagnostics = [];
    /** @type {number[]} */
    const lines = [];
    for (const p of problems) {
      const at = locateProblem(doc, p);
      if (!at) continue;
      diagnostics.push({ from: at.from, to: at.to, severity: p.severity, message: p.code ? `${p.code}: ${p.message}` : p.message, source });
      if (p.severity === 'error') lines.push(at.line);
    }
    view.dispatch(setDiagnostics(view.state, diagnostics));
    view.dispatch({ effects: setErrorLines.of(lines) });
    options.onProblems(problems, reply, source);
  }

  return {
    view,
    text: () => view.state.doc.toString(),
    /** @param {string} text */
    setText(text) {
      const wasLarge = large;
      large = text.length > LARGE_DOCUMENT;
      view.dispatch({
        changes: { from: 0, to: view.state.doc.length, insert: text },
        selection: { anchor: 0 },
        scrollIntoView: true,
        ...(large !== wasLarge ? { effects: language.reconfigure(large ? lightYaml : yaml()) } : {}),
      });
    },
    validateNow,
    /** @param {Problem[]} problems */
    showServerProblems: (problems) => show(problems, null, 'server'),
    /** @param {number} line @param {number} column */
    goTo(line, column) {
      const doc = view.state.doc;
      if (line < 1 || line > doc.lines) return;
      const l = doc.line(line);
      const pos = l.from + Math.min(Math.max(column - 1, 0), l.length);
      view.dispatch({ selection: { anchor: pos, head: l.to }, scrollIntoView: true });
      view.focus();
    },
    /** @param {Problem} p */
    locate: (p) => locateProblem(view.state.doc, p),
  };
}
