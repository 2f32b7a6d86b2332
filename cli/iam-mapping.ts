/**
 * `iam-mapping`: the command line of the IAM mapping service, in the style of
 * `anyscale cloud config get/update`. Talks to the HTTP API (endpoint and token from flags or
 * IAM_MAPPING_ENDPOINT / IAM_MAPPING_TOKEN); `lint` and the draft side of `what-if` run the
 * service's own validation and resolution locally, with no server.
 *
 * Exit codes: 0 ok · 1 invalid config/request or no matching rule · 2 usage · 3 auth (401/403,
 * no token) · 4 not found · 5 conflict/precondition (412: someone else changed it) · 6 server
 * error or unreachable.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Api, CliError, EXIT, errorBody, formatDetail, type ApiResponse, type ExitCode } from './client.js';
import type { Outcome } from './local.js';
import { locationOf, readSpec, withoutVersion } from './spec.js';
import { EtagState, stateDir } from './state.js';

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:3000';

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  endpoint: { type: 'string' },
  token: { type: 'string' },
  cloud: { type: 'string', short: 'n' },
  output: { type: 'string', short: 'o' },
  'spec-file': { type: 'string', short: 'f' },
  'if-match': { type: 'string' },
  force: { type: 'boolean' },
  version: { type: 'string' },
  to: { type: 'string' },
  'workload-type': { type: 'string' },
  project: { type: 'string' },
  user: { type: 'string' },
  'cluster-id': { type: 'string' },
  explain: { type: 'boolean' },
  launches: { type: 'string' },
  'fail-on-change': { type: 'boolean' },
  strict: { type: 'boolean' },
  wait: { type: 'boolean' },
  timeout: { type: 'string' },
  'fail-on-drift': { type: 'boolean' },
  repair: { type: 'boolean' },
} as const;
type OptionName = keyof typeof OPTIONS;
type Values = { [K in OptionName]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

export interface Io {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
}

interface Ctx {
  v: Values;
  io: Io;
  api(): Api;
  state: EtagState;
  endpoint: string;
}

interface Command {
  usage: string;
  summary: string;
  help: string;
  options: OptionName[];
  required?: OptionName[];
  /** Needs no server (no --endpoint/--token). */
  local?: boolean;
  run(ctx: Ctx): Promise<ExitCode>;
}

const CONNECTION_HELP = `Connection:
  --endpoint URL   API endpoint (env IAM_MAPPING_ENDPOINT, default ${DEFAULT_ENDPOINT})
  --token TOKEN    bearer token (env IAM_MAPPING_TOKEN; locally: npm run --silent dev-token -- owner)`;

const EXIT_HELP = `Exit codes:
  0 ok   1 invalid config/request, no matching rule   2 usage   3 auth (401/403, no token)
  4 not found   5 conflict (412: someone else changed it)   6 server error / unreachable`;

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

const COMMANDS: Record<string, Command> = {
  'config get': {
    usage: 'config get -n CLOUD [-o yaml|json] [--version N]',
    summary: 'print the current (or a past) mapping config',
    help: `Prints the config as stored, plus its read-only \`version\` (YAML by default). Remembers the
version's etag, so a later \`config update\` fails instead of overwriting a change made meanwhile.
  -n, --cloud CLOUD    the cloud_deployment_id, e.g. cldrsrc_XXXX
  -o, --output FORMAT  yaml (default) or json
  --version N          a past version (its etag is not remembered)`,
    options: ['cloud', 'output', 'version'],
    required: ['cloud'],
    async run({ v, io, api, state, endpoint }) {
      const format = outputFormat(v, ['yaml', 'json'], 'yaml');
      const version = v.version !== undefined ? positiveInt(v.version, '--version') : undefined;
      const res = await api().request('GET', api().cloudPath(v.cloud!, `/iam-mapping${version ? `?version=${version}` : ''}`), {
        accept: format === 'yaml' ? 'application/yaml' : 'application/json',
      });
      io.out(format === 'json' ? `${JSON.stringify(JSON.parse(res.text), null, 2)}\n` : res.text.endsWith('\n') ? res.text : `${res.text}\n`);
      const etag = unquote(res.headers.get('etag'));
      if (!version && etag) state.set(endpoint, v.cloud!, etag, versionOfEtag(etag));
      return EXIT.OK;
    },
  },

  'config update': {
    usage: 'config update -n CLOUD --spec-file FILE [--if-match ETAG | --force]',
    summary: 'store FILE as a new config version (If-Match from the last `config get`)',
    help: `Stores the config in FILE (YAML or JSON, as \`config get\` prints it; its \`version\` line is
ignored) as a new version, which starts provisioning. The write is conditional on the etag
remembered by the last \`config get\` of this cloud (or --if-match): if someone else stored a
version meanwhile it fails with exit code 5 and nothing is changed.
  -n, --cloud CLOUD      the cloud_deployment_id
  -f, --spec-file FILE   the config
  --if-match ETAG        base version's etag (default: remembered by \`config get\`)
  --force                overwrite whatever is current (no If-Match)
  -o, --output json      print the server's answer as JSON`,
    options: ['cloud', 'spec-file', 'if-match', 'force', 'output'],
    required: ['cloud', 'spec-file'],
    async run({ v, io, api, state, endpoint }) {
      const format = outputFormat(v, ['text', 'json'], 'text');
      if (v.force && v['if-match']) throw usage('--force and --if-match cannot be combined');
      const spec = withoutVersion(readSpec(v['spec-file']!));
      let ifMatch = v['if-match'];
      if (!ifMatch && !v.force) {
        const saved = state.get(endpoint, v.cloud!);
        if (saved) ifMatch = saved.etag;
        else {
          const current = await api().request('GET', api().cloudPath(v.cloud!, '/iam-mapping/versions?limit=1'), { allow: [404] });
          if (current.status === 200) {
            const latest = current.json.versions?.[0];
            throw new CliError(
              EXIT.CONFLICT,
              `cloud ${v.cloud} already has config version ${latest?.version}, and no etag was remembered for it here`,
              [`run \`iam-mapping config get -n ${v.cloud}\` first and merge your edits (or pass --force to overwrite)`],
            );
          }
        }
      }
      let res: ApiResponse;
      try {
        res = await api().request('PUT', api().cloudPath(v.cloud!, '/iam-mapping'), {
          body: spec.text,
          contentType: spec.contentType,
          ...(ifMatch ? { ifMatch: quote(ifMatch) } : {}),
        });
      } catch (e) {
        throw withFileLocations(e, spec.file, spec.text, v.cloud!);
      }
      state.set(endpoint, v.cloud!, res.json.etag, res.json.version);
      if (format === 'json') io.out(`${JSON.stringify(res.json, null, 2)}\n`);
      else if (res.json.unchanged) {
        io.out(`cloud ${v.cloud}: unchanged — equal to the current version ${res.json.version} (etag ${res.json.etag}); nothing stored, no provisioning run\n`);
        for (const w of res.json.warnings ?? []) io.err(`warning: ${w.code}: ${w.message}\n`);
      } else {
        io.out(`cloud ${v.cloud}: stored version ${res.json.version} (etag ${res.json.etag}); provisioning ${res.json.provisioning?.status ?? 'PENDING'}\n`);
        for (const w of res.json.warnings ?? []) io.err(`warning: ${w.code}: ${w.message}\n`);
        io.err(`follow it with: iam-mapping provisioning status -n ${v.cloud} --wait\n`);
      }
      return EXIT.OK;
    },
  },

  'config versions': {
    usage: 'config versions -n CLOUD [-o json]',
    summary: 'version history, newest first',
    help: `  -n, --cloud CLOUD   the cloud_deployment_id
  -o, --output json   the server's answer as JSON`,
    options: ['cloud', 'output'],
    required: ['cloud'],
    async run({ v, io, api }) {
      const format = outputFormat(v, ['text', 'json'], 'text');
      const res = await api().request('GET', api().cloudPath(v.cloud!, '/iam-mapping/versions'));
      if (format === 'json') io.out(`${JSON.stringify(res.json, null, 2)}\n`);
      else {
        const rows = (res.json.versions as Array<Record<string, unknown>>).map((x, i) => [
          `${i === 0 ? '*' : ' '}${x.version}`,
          String(x.created_at),
          String(x.created_by),
          String(x.rule_count),
          String(x.etag),
        ]);
        io.out(table(['VERSION', 'CREATED_AT', 'CREATED_BY', 'RULES', 'ETAG'], rows));
      }
      return EXIT.OK;
    },
  },

  'config rollback': {
    usage: 'config rollback -n CLOUD --to N',
    summary: 'store the content of version N again, as a new version',
    help: `Reads version N and stores its content as a new version (history is never rewritten),
conditional on the current version (exit code 5 if it changes in between).
  -n, --cloud CLOUD   the cloud_deployment_id
  --to N              the version whose content to restore`,
    options: ['cloud', 'to', 'output'],
    required: ['cloud', 'to'],
    async run({ v, io, api, state, endpoint }) {
      const format = outputFormat(v, ['text', 'json'], 'text');
      const to = positiveInt(v.to!, '--to');
      const old = await api().request('GET', api().cloudPath(v.cloud!, `/iam-mapping?version=${to}`));
      const current = await api().request('GET', api().cloudPath(v.cloud!, '/iam-mapping'));
      const currentEtag = unquote(current.headers.get('etag'));
      if (current.json.version === to) {
        io.err(`version ${to} is already the current version of ${v.cloud}; nothing to do\n`);
        return EXIT.OK;
      }
      const { version: _v, ...document } = old.json as Record<string, unknown>;
      const res = await api().request('PUT', api().cloudPath(v.cloud!, '/iam-mapping'), {
        body: JSON.stringify(document),
        contentType: 'application/json',
        ...(currentEtag ? { ifMatch: quote(currentEtag) } : {}),
      });
      state.set(endpoint, v.cloud!, res.json.etag, res.json.version);
      if (format === 'json') io.out(`${JSON.stringify(res.json, null, 2)}\n`);
      else if (res.json.unchanged) io.out(`cloud ${v.cloud}: the current version ${res.json.version} already has the content of version ${to}; nothing stored\n`);
      else io.out(`cloud ${v.cloud}: rolled back to the content of version ${to}, stored as version ${res.json.version} (etag ${res.json.etag}); provisioning ${res.json.provisioning?.status ?? 'PENDING'}\n`);
      return EXIT.OK;
    },
  },

  resolve: {
    usage: 'resolve -n CLOUD --workload-type TYPE --project P --user U [--cluster-id C] [--explain]',
    summary: 'which identity a launch gets (and, with --explain, why)',
    help: `Asks the server which identity a launch gets under the current config.
  -n, --cloud CLOUD         the cloud_deployment_id
  --workload-type TYPE      job, service or workspace
  --project P, --user U     the launch's project and user (e-mail)
  --cluster-id C            keep the answer for this cluster (sticky, like a real launch)
  --explain                 print each rule in order: the one that matched, and why the others did not
  -o, --output json         the server's answer as JSON
Exit code 1 when no rule matches and fallback_rule is FAIL.`,
    options: ['cloud', 'workload-type', 'project', 'user', 'cluster-id', 'explain', 'output'],
    required: ['cloud', 'workload-type', 'project', 'user'],
    async run({ v, io, api }) {
      const format = outputFormat(v, ['text', 'json'], 'text');
      const body = {
        workload_type: v['workload-type'],
        project: v.project,
        user: v.user,
        ...(v['cluster-id'] ? { cluster_id: v['cluster-id'] } : {}),
      };
      const res = await api().request('POST', api().cloudPath(v.cloud!, `/iam-mapping/resolve${v.explain ? '?explain=true' : ''}`), {
        body: JSON.stringify(body),
        allow: [422],
      });
      if (format === 'json') {
        io.out(`${JSON.stringify(res.json, null, 2)}\n`);
        return res.status === 422 ? EXIT.INVALID : EXIT.OK;
      }
      if (res.status === 422) {
        const e = errorBody(res)!;
        io.out(`no rule matches and fallback_rule is FAIL: the launch would fail\n`);
        if (v.explain) for (const d of e.details) io.out(`  rule ${d.rule_index}: no — ${String(d.message).replace(/^rule \d+: /, '')}\n`);
        else io.err(`${e.message}\n(add --explain to see why each rule did not match)\n`);
        return EXIT.INVALID;
      }
      const a = res.json;
      const trace = (a.trace ?? []) as Array<{ rule_index: number; selector: string; matched: boolean; reason?: string }>;
      const winner = trace.find((t) => t.matched);
      io.out(`identity: ${a.value ?? '(the cloud default identity)'}\n`);
      io.out(
        a.source === 'RULE'
          ? `matched:  rule ${a.rule_index}${winner ? `: ${winner.selector}` : ''}\n`
          : `matched:  no rule; fallback_rule CLOUD_DEFAULT\n`,
      );
      io.out(`config:   version ${a.config_version}${a.sticky ? ` (kept for cluster ${a.cluster_id} since ${a.resolved_at})` : ''}\n`);
      if (v.explain) {
        if (a.sticky) io.out('(no trace: the answer was kept from the first resolution of this cluster)\n');
        for (const t of trace) io.out(t.matched ? `  rule ${t.rule_index}: MATCH  ${t.selector}\n` : `  rule ${t.rule_index}: no     ${t.selector} — ${t.reason}\n`);
      }
      return EXIT.OK;
    },
  },

  'what-if': {
    usage: 'what-if -n CLOUD --spec-file DRAFT --launches FILE.csv|yaml [--fail-on-change]',
    summary: 'which sample launches a DRAFT config would give another identity than the current one',
    help: `Evaluates the DRAFT config locally (the service's own validation and resolution; nothing is
stored) against sample launches, and compares each answer with the CURRENT version on the server.
  -n, --cloud CLOUD        the cloud (default: the draft's cloud_deployment_id)
  -f, --spec-file DRAFT    the draft config (YAML or JSON)
  --launches FILE          CSV with the header workload_type,project,user — or YAML/JSON: a list
                           of {workload_type, project, user} (or {launches: [...]})
  --explain                for each launch that changes, why the draft's rules (do not) match
  --fail-on-change         exit code 1 when any launch would change identity
  -o, --output json        the comparison as JSON`,
    options: ['cloud', 'spec-file', 'launches', 'explain', 'fail-on-change', 'output'],
    required: ['spec-file', 'launches'],
    async run({ v, io, api }) {
      const format = outputFormat(v, ['text', 'json'], 'text');
      const { describeOutcome, evaluate, identityOf, readLaunches, traceOf, validateSpec } = await import('./local.js');
      const spec = readSpec(v['spec-file']!);
      const draft = validateSpec(spec, v.cloud);
      if (!draft.ok) return reportInvalid(io, spec.file, spec.text, draft.errors);
      const cloud = v.cloud ?? draft.config.cloud_deployment_id;
      const launches = readLaunches(v.launches!);

      const res = await api().request('GET', api().cloudPath(cloud, '/iam-mapping'), { allow: [404] });
      let current = null;
      let currentVersion: number | null = null;
      if (res.status === 200) {
        const { version, ...document } = res.json as Record<string, unknown>;
        currentVersion = Number(version);
        const c = validateSpec({ file: `${cloud} version ${version}`, text: JSON.stringify(document), contentType: 'application/json' }, undefined, {
          version: currentVersion,
          etag: unquote(res.headers.get('etag')) ?? '',
        });
        if (!c.ok) throw new CliError(EXIT.UNAVAILABLE, `the current config of ${cloud} (version ${version}) does not validate with this CLI; is it older than the server?`);
        current = c.compiled;
      }

      const results = launches.map(({ launch, where }) => {
        const before: Outcome = evaluate(current, launch);
        const after: Outcome = evaluate(draft.compiled, launch);
        return { where, launch, current: before, draft: after, changed: identityOf(before) !== identityOf(after) };
      });
      const changed = results.filter((r) => r.changed);
      if (format === 'json') {
        io.out(`${JSON.stringify({ cloud_deployment_id: cloud, current_version: currentVersion, launches: results.length, changed: changed.length, results }, null, 2)}\n`);
      } else {
        for (const w of draft.warnings) io.err(`warning: ${w.code}: ${w.message}\n`);
        io.out(
          table(
            ['', 'WORKLOAD', 'PROJECT', 'USER', `CURRENT (${currentVersion ? `v${currentVersion}` : 'none'})`, 'DRAFT'],
            results.map((r) => [r.changed ? 'CHANGED' : '', r.launch.workload_type, r.launch.project, r.launch.user, describeOutcome(r.current), describeOutcome(r.draft)]),
          ),
        );
        io.out(`${changed.length} of ${results.length} launch${results.length === 1 ? '' : 'es'} would change identity${currentVersion ? ` (draft vs version ${currentVersion} of ${cloud})` : ` (${cloud} has no config yet)`}\n`);
        if (v.explain) {
          for (const r of changed) {
            io.out(`\n${r.where}: ${r.launch.workload_type} ${r.launch.project} ${r.launch.user}\n`);
            for (const t of traceOf(draft.compiled, r.launch)) io.out(t.matched ? `  rule ${t.rule_index}: MATCH  ${t.selector}\n` : `  rule ${t.rule_index}: no     ${t.selector} — ${t.reason}\n`);
          }
        }
      }
      return v['fail-on-change'] && changed.length > 0 ? EXIT.INVALID : EXIT.OK;
    },
  },

  lint: {
    usage: 'lint --spec-file FILE [-n CLOUD] [--strict]',
    summary: 'validate a config locally: errors (exit 1) and lint warnings',
    help: `Validates FILE exactly as the server would on PUT (no server needed) and prints each problem
as FILE:LINE:COLUMN; selector problems point at the offending character.
  -f, --spec-file FILE   the config (YAML or JSON)
  -n, --cloud CLOUD      also require cloud_deployment_id to be CLOUD
  --strict               exit code 1 on warnings too
  -o, --output json      {errors, warnings} as JSON`,
    options: ['spec-file', 'cloud', 'strict', 'output'],
    required: ['spec-file'],
    local: true,
    async run({ v, io }) {
      const format = outputFormat(v, ['text', 'json'], 'text');
      const { pathParts } = await import('./spec.js');
      const { validateSpec } = await import('./local.js');
      const spec = readSpec(v['spec-file']!);
      const result = validateSpec(spec, v.cloud);
      if (!result.ok) {
        if (format === 'json') {
          io.out(`${JSON.stringify({ ok: false, errors: result.errors, warnings: [] }, null, 2)}\n`);
          return EXIT.INVALID;
        }
        return reportInvalid(io, spec.file, spec.text, result.errors);
      }
      const warnings = [...result.notes.map((message) => ({ code: 'UNINDENTED_YAML', path: '', message })), ...result.warnings];
      if (format === 'json') io.out(`${JSON.stringify({ ok: true, errors: [], warnings }, null, 2)}\n`);
      else {
        for (const w of warnings) {
          const at = w.path ? result.locate(pathParts(w.path)) : undefined;
          io.out(`${at ? `${spec.file}:${at.line}:${at.column}` : spec.file}: warning: ${w.code}: ${w.message}\n`);
        }
        const rules = result.config.dataplane_iam_mapping.rules.length;
        io.out(`${spec.file}: ok (${rules} rule${rules === 1 ? '' : 's'}, ${warnings.length} warning${warnings.length === 1 ? '' : 's'})\n`);
      }
      return v.strict && warnings.length > 0 ? EXIT.INVALID : EXIT.OK;
    },
  },

  'provisioning status': {
    usage: 'provisioning status -n CLOUD [--version N] [--wait [--timeout SECONDS]]',
    summary: 'the provisioning run of the latest version: items and resources',
    help: `  -n, --cloud CLOUD    the cloud_deployment_id
  --version N          a past version's run
  --wait               poll until the run has finished (exit code 1 if it FAILED, 6 on timeout)
  --timeout SECONDS    how long --wait waits (default 300)
  -o, --output json    the server's answer as JSON`,
    options: ['cloud', 'version', 'wait', 'timeout', 'output'],
    required: ['cloud'],
    async run({ v, io, api }) {
      const format = outputFormat(v, ['text', 'json'], 'text');
      const version = v.version !== undefined ? positiveInt(v.version, '--version') : undefined;
      const timeoutMs = (v.timeout !== undefined ? positiveInt(v.timeout, '--timeout') : 300) * 1000;
      const path = api().cloudPath(v.cloud!, `/iam-mapping/provisioning${version ? `?version=${version}` : ''}`);
      const deadline = Date.now() + timeoutMs;
      let res = await api().request('GET', path);
      while (v.wait && (res.json.status === 'PENDING' || res.json.status === 'RUNNING')) {
        if (Date.now() > deadline) {
          printRun(io, v.cloud!, res.json, format);
          throw new CliError(EXIT.UNAVAILABLE, `provisioning of version ${res.json.config_version} still ${res.json.status} after ${timeoutMs / 1000}s`);
        }
        await new Promise((r) => setTimeout(r, 500));
        res = await api().request('GET', path);
      }
      printRun(io, v.cloud!, res.json, format);
      return v.wait && res.json.status === 'FAILED' ? EXIT.INVALID : EXIT.OK;
    },
  },

  'drift check': {
    usage: 'drift check -n CLOUD [--repair] [--fail-on-drift]',
    summary: 'run a drift check now (owner) and print the report',
    help: `  -n, --cloud CLOUD   the cloud_deployment_id
  --repair            repair what is ours even when the cloud's drift mode is \`report\`
  --fail-on-drift     exit code 1 when drift was found
  -o, --output json   the report as JSON`,
    options: ['cloud', 'repair', 'fail-on-drift', 'output'],
    required: ['cloud'],
    async run({ v, io, api }) {
      const format = outputFormat(v, ['text', 'json'], 'text');
      const body = v.repair ? JSON.stringify({ repair: true }) : undefined;
      const res = await api().request('POST', api().cloudPath(v.cloud!, '/drift-checks'), body ? { body } : {});
      printDrift(io, v.cloud!, res.json, format);
      return v['fail-on-drift'] && res.json.drifted ? EXIT.INVALID : EXIT.OK;
    },
  },

  'drift show': {
    usage: 'drift show -n CLOUD [--fail-on-drift]',
    summary: 'the latest drift report',
    help: `  -n, --cloud CLOUD   the cloud_deployment_id
  --fail-on-drift     exit code 1 when the report found drift
  -o, --output json   the report as JSON`,
    options: ['cloud', 'fail-on-drift', 'output'],
    required: ['cloud'],
    async run({ v, io, api }) {
      const format = outputFormat(v, ['text', 'json'], 'text');
      let res: ApiResponse;
      try {
        res = await api().request('GET', api().cloudPath(v.cloud!, '/drift-checks/latest'));
      } catch (e) {
        if (e instanceof CliError && e.exitCode === EXIT.NOT_FOUND) {
          throw new CliError(EXIT.NOT_FOUND, e.message, [...e.lines, `run \`iam-mapping drift check -n ${v.cloud}\` to make one`]);
        }
        throw e;
      }
      printDrift(io, v.cloud!, res.json, format);
      return v['fail-on-drift'] && res.json.drifted ? EXIT.INVALID : EXIT.OK;
    },
  },
};

const GROUPS = ['config', 'provisioning', 'drift'];

// ---------------------------------------------------------------------------------------------
// Output helpers
// ---------------------------------------------------------------------------------------------

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}

function printRun(io: Io, cloud: string, run: any, format: string): void {
  if (format === 'json') {
    io.out(`${JSON.stringify(run, null, 2)}\n`);
    return;
  }
  const when = [run.started_at && `started ${run.started_at}`, run.finished_at && `finished ${run.finished_at}`].filter(Boolean).join(', ');
  io.out(`cloud ${cloud}, config version ${run.config_version}: ${run.status}${when ? ` (${when})` : ''}\n`);
  if (run.reason) io.out(`reason: ${run.reason}\n`);
  if (run.error) io.out(`error: ${run.error.name}: ${run.error.message}\n`);
  if (run.items?.length) {
    io.out('\n');
    io.out(table(['ITEM', 'KIND', 'STATUS', 'ERROR'], run.items.map((i: any) => [i.name, i.kind, i.status, i.error ? `${i.error.name}: ${i.error.message}` : ''])));
  }
  if (run.resources?.length) {
    io.out('\n');
    io.out(
      table(
        ['RESOURCE', 'NAME', 'NAMESPACE', 'ACTION', 'DETAIL'],
        run.resources.map((r: any) => [r.kind, r.name, r.namespace ?? '', r.action, r.detail ?? '']),
      ),
    );
  }
}

function printDrift(io: Io, cloud: string, report: any, format: string): void {
  if (format === 'json') {
    io.out(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const findings = (report.findings ?? []) as Array<Record<string, unknown>>;
  io.out(
    `cloud ${cloud}, checked ${report.checked_at}: ${report.drifted ? `DRIFTED (${findings.length} finding${findings.length === 1 ? '' : 's'})` : 'no drift'}\n`,
  );
  if (findings.length) {
    io.out('\n');
    const severity = findings.some((f) => f.severity !== undefined);
    io.out(
      table(
        [...(severity ? ['SEVERITY'] : []), 'KIND', 'NAME', 'EXPECTED', 'ACTUAL'],
        findings.map((f) => [...(severity ? [String(f.severity ?? '')] : []), String(f.kind), String(f.name), shortJson(f.expected), shortJson(f.actual)]),
      ),
    );
    // What changed, in words, one line per finding.
    io.out('\n');
    for (const f of findings) if (typeof f.message === 'string') io.out(`- ${f.message}\n`);
  }
  const repair = report.repair as { items?: string[]; execution_id?: string; deleted?: string[]; errors?: string[]; skipped?: number } | undefined;
  if (repair) {
    const parts: string[] = [];
    if (repair.items?.length) parts.push(`re-provisioning ${repair.items.join(', ')}${repair.execution_id ? ` (execution ${repair.execution_id})` : ''}`);
    if (repair.deleted?.length) parts.push(`deleted ${repair.deleted.join(', ')}`);
    if (repair.skipped) parts.push(`${repair.skipped} finding${repair.skipped === 1 ? '' : 's'} left alone (not ours, or not repairable)`);
    for (const e of repair.errors ?? []) parts.push(`could not: ${e}`);
    io.out(`\nrepair: ${parts.length ? parts.join('; ') : 'nothing to do'}\n`);
  }
}

function shortJson(v: unknown): string {
  const s = typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

function reportInvalid(io: Io, file: string, text: string, errors: Array<Record<string, unknown> & { path: string; message: string }>): ExitCode {
  for (const e of errors) io.err(`${locationOf(file, text, e)}: error: ${e.path && !e.message.startsWith(`${e.path} `) ? `${e.path}: ` : ''}${e.message}\n`);
  io.err(`${file}: ${errors.length} error${errors.length === 1 ? '' : 's'}\n`);
  return EXIT.INVALID;
}

/** A 400 of PUT with details: point each at FILE:LINE:COL. */
function withFileLocations(e: unknown, file: string, text: string, cloud: string): unknown {
  if (!(e instanceof CliError) || !e.body) return e;
  if (e.body.code === 'PRECONDITION_FAILED') {
    return new CliError(EXIT.CONFLICT, `someone else changed the config of ${cloud} meanwhile; nothing was stored`, [
      String(e.body.message),
      `run \`iam-mapping config get -n ${cloud}\`, merge your edits into ${file}, and retry`,
    ]);
  }
  if (e.body.code !== 'INVALID_CONFIG') return e;
  const lines = e.body.details.map((d) => `${locationOf(file, text, d)}: ${formatDetail({ ...d, line: undefined, column: undefined, position: undefined })}`);
  return new CliError(e.exitCode, `the server refused ${file}: ${e.body.code}: invalid mapping config`, lines, e.body);
}

// ---------------------------------------------------------------------------------------------
// Argument handling
// ---------------------------------------------------------------------------------------------

function usage(message: string): CliError {
  return new CliError(EXIT.USAGE, message, ['see `iam-mapping --help`']);
}

function outputFormat<T extends string>(v: Values, allowed: readonly T[], fallback: T): T {
  const o = v.output ?? fallback;
  if (!(allowed as readonly string[]).includes(o)) throw usage(`--output must be ${allowed.join(' or ')}, got ${JSON.stringify(o)}`);
  return o as T;
}

function positiveInt(raw: string, flag: string): number {
  if (!/^[1-9]\d{0,9}$/.test(raw)) throw usage(`${flag} must be a positive integer, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

const unquote = (etag: string | null) => (etag ? etag.replace(/^W\//, '').replace(/^"(.*)"$/, '$1') : undefined);
const quote = (etag: string) => (etag.startsWith('"') || etag === '*' ? etag : `"${etag}"`);
const versionOfEtag = (etag: string) => Number(/^(\d+)-/.exec(etag)?.[1] ?? 0);

function flagList(c: Command): string {
  return c.options.map((o) => `--${o}`).join(', ');
}

function mainHelp(): string {
  const width = Math.max(...Object.values(COMMANDS).map((c) => c.usage.split(' -')[0]!.length));
  const lines = Object.values(COMMANDS).map((c) => `  ${c.usage.split(' -')[0]!.padEnd(width)}  ${c.summary}`);
  return `iam-mapping — manage the cloud IAM mapping of Anyscale clouds

Usage: iam-mapping COMMAND [options]     (iam-mapping COMMAND --help for its options)

Commands:
${lines.join('\n')}

${CONNECTION_HELP}

${EXIT_HELP}
`;
}

function commandHelp(c: Command): string {
  return `Usage: iam-mapping ${c.usage}

${c.summary[0]!.toUpperCase()}${c.summary.slice(1)}.

${c.help}
${c.local ? '' : `\n${CONNECTION_HELP}\n`}
${EXIT_HELP}
`;
}

function groupHelp(group: string): string {
  const entries = Object.entries(COMMANDS).filter(([n]) => n.startsWith(`${group} `));
  return `Usage: iam-mapping ${group} SUBCOMMAND [options]

${entries.map(([, c]) => `  ${c.usage}\n      ${c.summary}`).join('\n')}
`;
}

/** Runs the CLI; returns the exit code. */
export async function run(argv: string[], io: Io = processIo()): Promise<ExitCode> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    io.err(`iam-mapping: ${(e as Error).message}\nsee \`iam-mapping --help\`\n`);
    return EXIT.USAGE;
  }
  const v = parsed.values as Values;
  const words = parsed.positionals;
  const [first, second] = words;
  if (!first) {
    (v.help ? io.out : io.err)(mainHelp());
    return v.help ? EXIT.OK : EXIT.USAGE;
  }
  if (first === 'help') {
    io.out(mainHelp());
    return EXIT.OK;
  }
  const name = GROUPS.includes(first) ? (second ? `${first} ${second}` : first) : first;
  const command = COMMANDS[name];
  const extra = words.slice(GROUPS.includes(first) ? 2 : 1);
  if (!command) {
    if (GROUPS.includes(first) && !second) {
      (v.help ? io.out : io.err)(groupHelp(first));
      return v.help ? EXIT.OK : EXIT.USAGE;
    }
    io.err(`iam-mapping: unknown command ${JSON.stringify(words.join(' '))}\n\n${mainHelp()}`);
    return EXIT.USAGE;
  }
  if (v.help) {
    io.out(commandHelp(command));
    return EXIT.OK;
  }
  try {
    if (extra.length) throw usage(`unexpected argument ${JSON.stringify(extra[0])} for \`${name}\``);
    const allowed = new Set<OptionName>([...command.options, 'help', ...(command.local ? [] : (['endpoint', 'token'] as const))]);
    for (const k of Object.keys(v) as OptionName[]) {
      if (!allowed.has(k)) throw usage(`\`${name}\` does not take --${k} (it takes ${flagList(command)})`);
    }
    for (const k of command.required ?? []) {
      if (v[k] === undefined || v[k] === '') throw usage(`\`${name}\` needs --${k}\nusage: iam-mapping ${command.usage}`);
    }
    const endpoint = (v.endpoint ?? io.env.IAM_MAPPING_ENDPOINT ?? DEFAULT_ENDPOINT).replace(/\/+$/, '');
    if (!/^https?:\/\/[^/]+/.test(endpoint)) throw usage(`the endpoint must be an http(s) URL, got ${JSON.stringify(endpoint)}`);
    let client: Api | undefined;
    const ctx: Ctx = {
      v,
      io,
      endpoint,
      state: new EtagState(stateDir(io.env)),
      api: () => (client ??= new Api(endpoint, v.token ?? io.env.IAM_MAPPING_TOKEN)),
    };
    return await command.run(ctx);
  } catch (e) {
    if (e instanceof CliError) {
      io.err(`iam-mapping: ${e.message}\n${e.lines.map((l) => `  ${l}\n`).join('')}`);
      return e.exitCode;
    }
    io.err(`iam-mapping: unexpected error: ${(e as Error).stack ?? String(e)}\n`);
    return EXIT.UNAVAILABLE;
  }
}

function processIo(): Io {
  return { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), env: process.env };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await run(process.argv.slice(2));
}
