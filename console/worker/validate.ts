/**
 * The console's validation worker: the server's own parse + validation + lint code (lib/config,
 * no SDK, no HTTP), bundled for the browser and run off the main thread, so the editor shows
 * every problem at its line and column as you type — for a 25,000-rule config too. The server
 * stays the judge: Save and Plan send the text to the API, which validates it again (with the
 * deployment's own settings, which the browser does not know).
 */
import { parseConfigBody } from '../../lib/config/parse.js';
import { identityCeiling, validateConfig } from '../../lib/config/validate.js';
import { AppError } from '../../lib/errors.js';

/** What the page sends: the editor's text and the cloud it belongs to. */
export interface ValidateRequest {
  id: number;
  text: string;
  cloudId?: string;
}

/** One problem, located (1-based line/column; `position` is the character within a selector). */
export interface Problem {
  severity: 'error' | 'warning';
  path: string;
  message: string;
  code?: string;
  line?: number;
  column?: number;
  rule_index?: number;
  position?: number;
}

export interface ValidateReply {
  id: number;
  problems: Problem[];
  /** Rules read (0 when the text does not parse). */
  rules: number;
  ms: number;
}

const num = (v: unknown) => (typeof v === 'number' ? v : undefined);

function fromDetail(d: Record<string, unknown>, severity: Problem['severity']): Problem {
  const text = (v: unknown) => (typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v));
  const p: Problem = { severity, path: text(d.path), message: text(d.message) };
  if (typeof d.code === 'string') p.code = d.code;
  for (const k of ['line', 'column', 'rule_index', 'position'] as const) {
    const v = num(d[k]);
    if (v !== undefined) p[k] = v;
  }
  return p;
}

export function validateText(request: ValidateRequest): ValidateReply {
  const started = performance.now();
  const done = (problems: Problem[], rules = 0): ValidateReply => ({ id: request.id, problems, rules, ms: performance.now() - started });
  if (request.text.trim() === '') return done([]);
  let body;
  try {
    body = parseConfigBody(request.text, undefined);
  } catch (e) {
    if (e instanceof AppError) return done(e.details.map((d) => fromDetail(d, 'error')));
    return done([{ severity: 'error', path: '', message: e instanceof Error ? e.message : String(e) }]);
  }
  const result = validateConfig(body.document, {
    ...(request.cloudId ? { cloudId: request.cloudId } : {}),
    locate: body.locate,
    maxIdentities: identityCeiling(undefined),
  });
  const notes: Problem[] = body.notes.map((message) => ({ severity: 'warning', path: '', code: 'UNINDENTED_YAML', message, line: 1, column: 1 }));
  if (!result.ok) return done([...notes, ...result.errors.map((d) => fromDetail(d, 'error'))]);
  const warnings = result.warnings.map((w) => {
    const p = fromDetail({ ...w }, 'warning');
    if (p.line === undefined && w.rule_index !== undefined) {
      const at = body.locate(['dataplane_iam_mapping', 'rules', w.rule_index, 'selector']);
      if (at) Object.assign(p, at);
    }
    return p;
  });
  return done([...notes, ...warnings], result.config.dataplane_iam_mapping.rules.length);
}

interface WorkerScope {
  onmessage: ((e: { data: ValidateRequest }) => void) | null;
  postMessage(message: ValidateReply): void;
}
const scope = globalThis as unknown as WorkerScope;
if ('importScripts' in globalThis) {
  scope.onmessage = (e) => scope.postMessage(validateText(e.data));
}
