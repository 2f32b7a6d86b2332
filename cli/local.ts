/**
 * What the CLI does without a server: read a spec file the way the server reads a request body,
 * validate and lint it with the service's own library, read sample launches, and evaluate a
 * config against them (for `lint` and `what-if`).
 */
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseConfigBody, versionDetail, withoutVersion, type Path } from '../lib/config/parse.js';
import { resolveRequestSchema, type MappingConfig } from '../lib/config/schema.js';
import { validateConfig } from '../lib/config/validate.js';
import type { LintWarning } from '../lib/config/lint.js';
import { AppError, type ErrorDetail } from '../lib/errors.js';
import { compileConfig, type CompiledConfig } from '../lib/resolution/compile.js';
import { explain, resolve, type Launch, type TraceEntry } from '../lib/resolution/resolve.js';
import { CliError, EXIT } from './client.js';
import { readTextFile, type Spec } from './spec.js';

export type LocalValidation =
  | {
      ok: true;
      config: MappingConfig;
      compiled: CompiledConfig;
      warnings: LintWarning[];
      notes: string[];
      locate: (path: Path) => { line: number; column: number } | undefined;
    }
  | { ok: false; errors: ErrorDetail[] };

/** Parses and validates a spec exactly as a PUT would (without storing anything). */
export function validateSpec(spec: Spec, cloudId?: string, ref = { version: 0, etag: 'draft' }): LocalValidation {
  let parsed;
  try {
    parsed = parseConfigBody(spec.text, spec.contentType);
  } catch (e) {
    if (e instanceof AppError) return { ok: false, errors: e.details.length ? e.details : [{ path: '', message: e.message }] };
    throw e;
  }
  const { document, problem } = withoutVersion(parsed.document);
  const result = validateConfig(document, { ...(cloudId ? { cloudId } : {}), locate: parsed.locate });
  const errors = [...versionDetail(problem, parsed.locate), ...(result.ok ? [] : result.errors)];
  if (!result.ok || errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    config: result.config,
    compiled: compileConfig(result.config, ref, result.selectors),
    warnings: result.warnings,
    notes: parsed.notes,
    locate: parsed.locate,
  };
}

// ---------------------------------------------------------------------------------------------
// Sample launches
// ---------------------------------------------------------------------------------------------

export interface LaunchRow {
  launch: Launch;
  /** Where it was read, e.g. `launches.csv:3`. */
  where: string;
}

const FIELD_ALIASES: Record<string, keyof Launch> = {
  workload_type: 'workload_type',
  'workload-type': 'workload_type',
  workloadtype: 'workload_type',
  project: 'project',
  user: 'user',
};

/** Launches from CSV (header `workload_type,project,user`) or YAML/JSON (a list, or `{launches: [...]}`). */
export function readLaunches(file: string): LaunchRow[] {
  const text = readTextFile(file, 'launches file');
  const rows = extname(file).toLowerCase() === '.csv' ? csvRows(file, text) : yamlRows(file, text);
  if (rows.length === 0) throw new CliError(EXIT.USAGE, `${file}: no launches`);
  const problems: string[] = [];
  const out: LaunchRow[] = [];
  for (const { where, record } of rows) {
    const picked: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(record)) {
      const field = FIELD_ALIASES[k.trim().toLowerCase()];
      if (field) picked[field] = typeof v === 'string' ? v.trim() : v;
    }
    const parsed = resolveRequestSchema.safeParse(picked);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      problems.push(`${where}: ${issue.path.join('.') || 'launch'}: ${issue.message}`);
      continue;
    }
    out.push({ where, launch: { workload_type: parsed.data.workload_type, project: parsed.data.project, user: parsed.data.user } });
  }
  if (problems.length) throw new CliError(EXIT.INVALID, `${file}: ${problems.length} invalid launch${problems.length > 1 ? 'es' : ''}`, problems);
  return out;
}

function csvRows(file: string, text: string): Array<{ where: string; record: Record<string, unknown> }> {
  const lines = parseCsv(text);
  const header = lines.shift();
  if (!header) return [];
  const columns = header.cells.map((c) => c.trim().toLowerCase());
  for (const required of ['workload_type', 'project', 'user']) {
    if (!columns.some((c) => FIELD_ALIASES[c] === required)) {
      throw new CliError(
        EXIT.USAGE,
        `${file}:${header.line}: the header must name the columns workload_type, project and user (got: ${header.cells.join(',')})`,
      );
    }
  }
  return lines.map(({ line, cells }) => ({ where: `${file}:${line}`, record: Object.fromEntries(columns.map((c, i) => [c, cells[i] ?? ''])) }));
}

/** RFC 4180-ish: quoted cells with "" escapes and embedded commas/newlines; blank and `#` lines skipped. */
export function parseCsv(text: string): Array<{ line: number; cells: string[] }> {
  const out: Array<{ line: number; cells: string[] }> = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let startLine = 1;
  let atStart = true;
  const endRow = () => {
    cells.push(cell);
    const blank = cells.length === 1 && cells[0]!.trim() === '';
    if (!blank && !cells[0]!.trimStart().startsWith('#')) out.push({ line: startLine, cells });
    cells = [];
    cell = '';
    atStart = true;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (atStart) {
      startLine = line;
      atStart = false;
    }
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else {
        if (ch === '\n') line++;
        cell += ch;
      }
    } else if (ch === '"' && cell.trim() === '') {
      quoted = true;
      cell = '';
    } else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else if (ch === '\n') {
      endRow();
      line++;
    } else if (ch !== '\r') cell += ch;
  }
  if (!atStart || cell !== '' || cells.length) endRow();
  return out;
}

function yamlRows(file: string, text: string): Array<{ where: string; record: Record<string, unknown> }> {
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 50 });
  } catch (e) {
    throw new CliError(EXIT.USAGE, `${file}: not valid YAML/JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  const list = Array.isArray(doc) ? doc : (doc as { launches?: unknown } | null)?.launches;
  if (!Array.isArray(list))
    throw new CliError(EXIT.USAGE, `${file}: expected a list of launches (or {launches: [...]}), each with workload_type, project and user`);
  return list.map((record, i) => ({
    where: `${file}[${i}]`,
    record: record && typeof record === 'object' && !Array.isArray(record) ? (record as Record<string, unknown>) : {},
  }));
}

// ---------------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------------

export type Outcome = { kind: 'rule'; value: string; rule_index: number } | { kind: 'default'; value: string | null } | { kind: 'fail' } | { kind: 'none' };

export function evaluate(compiled: CompiledConfig | null, launch: Launch): Outcome {
  if (!compiled) return { kind: 'none' };
  try {
    const r = resolve(compiled, launch);
    return r.source === 'RULE' ? { kind: 'rule', value: r.value!, rule_index: r.rule_index! } : { kind: 'default', value: r.value };
  } catch (e) {
    if (e instanceof AppError && e.code === 'NO_MATCHING_RULE') return { kind: 'fail' };
    throw e;
  }
}

export function traceOf(compiled: CompiledConfig, launch: Launch): TraceEntry[] {
  try {
    return explain(compiled, launch).trace;
  } catch (e) {
    if (e instanceof AppError && e.code === 'NO_MATCHING_RULE') {
      return compiled.rules.map((r) => ({ rule_index: r.index, selector: r.selector.toString(), matched: false, reason: describeOf(e, r.index) }));
    }
    throw e;
  }
}

function describeOf(e: AppError, index: number): string {
  const d = e.details.find((x) => x.rule_index === index);
  return d ? d.message.replace(/^rule \d+: /, '') : 'did not match';
}

/** The identity a launch would run with: what decides whether it "changes". */
export function identityOf(o: Outcome): string {
  switch (o.kind) {
    case 'rule':
      return o.value;
    case 'default':
      return o.value ?? '(cloud default)';
    case 'fail':
      return '(launch fails: no rule matches)';
    case 'none':
      return '(no config)';
  }
}

export function describeOutcome(o: Outcome): string {
  switch (o.kind) {
    case 'rule':
      return `${o.value} (rule ${o.rule_index})`;
    case 'default':
      return `${o.value ?? 'cloud default'} (fallback)`;
    case 'fail':
      return 'FAIL (no rule matches)';
    case 'none':
      return '(no config)';
  }
}
