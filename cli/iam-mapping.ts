/**
 * `iam-mapping`: the command line of the IAM mapping service, in the style of
 * `anyscale cloud config get/update`. Talks to the HTTP API (endpoint and token from flags or
 * IAM_MAPPING_ENDPOINT / IAM_MAPPING_TOKEN); `lint` and the draft side of `what-if` run the
 * service's own validation and resolution locally, with no server.
 *
 * Exit codes: 0 ok · 1 invalid config/request or no matching rule · 2 usage (and, with `plan
 * --detailed-exitcode`, changes planned) · 3 auth (401/403, no token) · 4 not found · 5
 * conflict/precondition (412: someone else changed it) · 6 server error or unreachable.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify as toYaml } from 'yaml';
import type { ReplyOf } from '../functions/routes.js';
import { Api, CliError, EXIT, errorBody, formatDetail, type ExitCode, type OkResponse } from './client.js';
import type { Outcome } from './local.js';
import { locationOf, readSpec } from './spec.js';
import { EtagState, stateDir } from './state.js';

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:3000';

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  endpoint: { type: 'string' },
  token: { type: 'string' },
  cloud: { type: 'string', short: 'n' },
  output: { type: 'string', short: 'o' },
  'no-headers': { type: 'boolean' },
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
  'detailed-exitcode': { type: 'boolean' },
} as const;
type OptionName = keyof typeof OPTIONS;
type Values = { [K in OptionName]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

interface Ctx {
  v: Values;
  io: Io;
  /** How to print: -o json|yaml|table|wide and --no-headers. */
  out: Out;
  api: () => Api;
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
  /** Output format without -o (default table). */
  defaultOutput?: Format;
  run(ctx: Ctx): Promise<ExitCode>;
}

const CONNECTION_HELP = `Connection:
  --endpoint URL   API endpoint (env IAM_MAPPING_ENDPOINT, default ${DEFAULT_ENDPOINT})
  --token TOKEN    bearer token (env IAM_MAPPING_TOKEN; locally: npm run --silent dev-token -- owner)`;

const OUTPUT_HELP = `Output:
  -o, --output FORMAT  table (default; cut to fit COLUMNS or 120 columns), wide (every cell
                       whole, more columns), json or yaml (the server's answer, for scripts)
  --no-headers         tables without their header row and summary lines`;

const EXIT_HELP = `Exit codes:
  0 ok   1 failed: invalid config/request, no matching rule, provisioning FAILED,
         changes (--fail-on-change), drift (--fail-on-drift)   2 usage   3 auth (401/403, no token)
  4 not found   5 conflict (412: someone else changed it)   6 server error / unreachable
  plan --detailed-exitcode (as terraform): 0 no changes, 2 changes, errors as above
  A closed output pipe (e.g. \`| head\`) ends the command quietly with the code it would have had.`;

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

const COMMANDS: Record<string, Command> = {
  'config get': {
    usage: 'config get -n CLOUD [--version N]',
    summary: 'print the current (or a past) mapping config',
    help: `Prints the config as stored, plus its read-only \`version\` (YAML by default). Remembers the
version's etag, so a later \`config update\` fails instead of overwriting a change made meanwhile.
  -n, --cloud CLOUD    the cloud_deployment_id, e.g. cldrsrc_XXXX
  -o, --output FORMAT  yaml (default), json, or table/wide (the rules, one per line)
  --version N          a past version (its etag is not remembered)`,
    options: ['cloud', 'version'],
    required: ['cloud'],
    defaultOutput: 'yaml',
    async run({ v, io, api, state, endpoint, out }) {
      const version = v.version !== undefined ? positiveInt(v.version, '--version') : undefined;
      const res = await api().request('GET', api().cloudPath(v.cloud!, `/iam-mapping${version ? `?version=${version}` : ''}`), {
        accept: out.format === 'yaml' ? 'application/yaml' : 'application/json',
      });
      if (out.format === 'yaml') io.out(res.text.endsWith('\n') ? res.text : `${res.text}\n`);
      else if (!printData(io, out, JSON.parse(res.text))) {
        const c = JSON.parse(res.text) as {
          version: number;
          cloud_provider: string;
          compute_stack: string;
          dataplane_iam_mapping: { rules: Array<{ selector: string; value: string }>; fallback_rule: string };
        };
        if (!out.noHeaders)
          io.out(`cloud ${v.cloud} version ${c.version} (${c.cloud_provider} ${c.compute_stack}), fallback_rule ${c.dataplane_iam_mapping.fallback_rule}\n`);
        io.out(
          table(
            ['RULE', 'SELECTOR', 'VALUE'],
            c.dataplane_iam_mapping.rules.map((r, i) => [String(i), r.selector, r.value]),
            out,
          ),
        );
      }
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
  --force                overwrite whatever is current (no If-Match)`,
    options: ['cloud', 'spec-file', 'if-match', 'force'],
    required: ['cloud', 'spec-file'],
    async run({ v, io, api, state, endpoint, out }) {
      if (v.force && v['if-match']) throw usage('--force and --if-match cannot be combined');
      const spec = readSpec(v['spec-file']!);
      let ifMatch = v['if-match'];
      if (!ifMatch && !v.force) {
        const saved = state.get(endpoint, v.cloud!);
        if (saved) ifMatch = saved.etag;
        else {
          const current = await api().request<ReplyOf<'listVersions'>>('GET', api().cloudPath(v.cloud!, '/iam-mapping/versions?limit=1'), { allow: [404] });
          if (current.ok) {
            const latest = current.json.versions?.[0];
            throw new CliError(EXIT.CONFLICT, `cloud ${v.cloud} already has config version ${latest?.version}, and no etag was remembered for it here`, [
              `run \`iam-mapping config get -n ${v.cloud}\` first and merge your edits (or pass --force to overwrite)`,
            ]);
          }
        }
      }
      let res: OkResponse<ReplyOf<'putConfig'>>;
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
      if (!printData(io, out, res.json)) {
        if (res.json.unchanged) {
          io.out(
            `cloud ${v.cloud}: unchanged — equal to the current version ${res.json.version} (etag ${res.json.etag}); nothing stored, no provisioning run\n`,
          );
          for (const w of res.json.warnings ?? []) io.err(`warning: ${w.code}: ${w.message}\n`);
          return EXIT.OK;
        }
        io.out(`cloud ${v.cloud}: stored version ${res.json.version} (etag ${res.json.etag}); provisioning ${res.json.provisioning?.status ?? 'PENDING'}\n`);
        for (const w of res.json.warnings ?? []) io.err(`warning: ${w.code}: ${w.message}\n`);
        io.err(`follow it with: iam-mapping provisioning status -n ${v.cloud} --wait\n`);
      }
      return EXIT.OK;
    },
  },

  'config versions': {
    usage: 'config versions -n CLOUD',
    summary: 'version history, newest first',
    help: `  -n, --cloud CLOUD   the cloud_deployment_id`,
    options: ['cloud'],
    required: ['cloud'],
    async run({ v, io, api, out }) {
      const res = await api().request<ReplyOf<'listVersions'>>('GET', api().cloudPath(v.cloud!, '/iam-mapping/versions'));
      printRows(io, out, res.json, ['VERSION', 'CREATED_AT', 'CREATED_BY', 'RULES', 'ETAG'], () =>
        res.json.versions.map((x, i) => [`${i === 0 ? '*' : ' '}${x.version}`, x.created_at, x.created_by, String(x.rule_count), x.etag]),
      );
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
    options: ['cloud', 'to'],
    required: ['cloud', 'to'],
    async run({ v, io, api, state, endpoint, out }) {
      const to = positiveInt(v.to!, '--to');
      const old = await api().request<ReplyOf<'getConfig'>>('GET', api().cloudPath(v.cloud!, `/iam-mapping?version=${to}`));
      const current = await api().request<ReplyOf<'getConfig'>>('GET', api().cloudPath(v.cloud!, '/iam-mapping'));
      const currentEtag = unquote(current.headers.get('etag'));
      if (current.json.version === to) {
        io.err(`version ${to} is already the current version of ${v.cloud}; nothing to do\n`);
        return EXIT.OK;
      }
      const { version: _v, ...document } = old.json;
      const res = await api().request<ReplyOf<'putConfig'>>('PUT', api().cloudPath(v.cloud!, '/iam-mapping'), {
        body: JSON.stringify(document),
        contentType: 'application/json',
        ...(currentEtag ? { ifMatch: quote(currentEtag) } : {}),
      });
      state.set(endpoint, v.cloud!, res.json.etag, res.json.version);
      if (!printData(io, out, res.json)) {
        if (res.json.unchanged) io.out(`cloud ${v.cloud}: the current version ${res.json.version} already has the content of version ${to}; nothing stored\n`);
        else
          io.out(
            `cloud ${v.cloud}: rolled back to the content of version ${to}, stored as version ${res.json.version} (etag ${res.json.etag}); provisioning ${res.json.provisioning?.status ?? 'PENDING'}\n`,
          );
      }
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
Exit code 1 when no rule matches and fallback_rule is FAIL.`,
    options: ['cloud', 'workload-type', 'project', 'user', 'cluster-id', 'explain'],
    required: ['cloud', 'workload-type', 'project', 'user'],
    async run({ v, io, api, out }) {
      const body = {
        workload_type: v['workload-type'],
        project: v.project,
        user: v.user,
        ...(v['cluster-id'] ? { cluster_id: v['cluster-id'] } : {}),
      };
      const res = await api().request<ReplyOf<'resolve'>>('POST', api().cloudPath(v.cloud!, `/iam-mapping/resolve${v.explain ? '?explain=true' : ''}`), {
        body: JSON.stringify(body),
        allow: [422],
      });
      if (printData(io, out, res.json)) return res.ok ? EXIT.OK : EXIT.INVALID;
      if (!res.ok) {
        const e = errorBody(res)!;
        io.out(`no rule matches and fallback_rule is FAIL: the launch would fail\n`);
        if (v.explain) for (const d of e.details) io.out(`  rule ${d.rule_index}: no — ${String(d.message).replace(/^rule \d+: /, '')}\n`);
        else io.err(`${e.message}\n(add --explain to see why each rule did not match)\n`);
        return EXIT.INVALID;
      }
      const a = res.json;
      const trace = a.trace ?? [];
      const winner = trace.find((t) => t.matched);
      io.out(`identity: ${a.value ?? '(the cloud default identity)'}\n`);
      io.out(
        a.source === 'RULE' ? `matched:  rule ${a.rule_index}${winner ? `: ${winner.selector}` : ''}\n` : `matched:  no rule; fallback_rule CLOUD_DEFAULT\n`,
      );
      io.out(`config:   version ${a.config_version}${a.sticky ? ` (kept for cluster ${a.cluster_id} since ${a.resolved_at})` : ''}\n`);
      if (v.explain) {
        if (a.sticky) io.out('(no trace: the answer was kept from the first resolution of this cluster)\n');
        for (const t of trace)
          io.out(t.matched ? `  rule ${t.rule_index}: MATCH  ${t.selector}\n` : `  rule ${t.rule_index}: no     ${t.selector} — ${t.reason}\n`);
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
  --fail-on-change         exit code 1 when any launch would change identity`,
    options: ['cloud', 'spec-file', 'launches', 'explain', 'fail-on-change'],
    required: ['spec-file', 'launches'],
    async run({ v, io, api, out }) {
      const { describeOutcome, evaluate, identityOf, readLaunches, traceOf, validateSpec } = await import('./local.js');
      const spec = readSpec(v['spec-file']!);
      const draft = validateSpec(spec, v.cloud);
      if (!draft.ok) return reportInvalid(io, spec.file, spec.text, draft.errors);
      const cloud = v.cloud ?? draft.config.cloud_deployment_id;
      const launches = readLaunches(v.launches!);

      const res = await api().request<ReplyOf<'getConfig'>>('GET', api().cloudPath(cloud, '/iam-mapping'), { allow: [404] });
      let current = null;
      let currentVersion: number | null = null;
      if (res.ok) {
        const { version, ...document } = res.json;
        currentVersion = Number(version);
        const c = validateSpec({ file: `${cloud} version ${currentVersion}`, text: JSON.stringify(document), contentType: 'application/json' }, undefined, {
          version: currentVersion,
          etag: unquote(res.headers.get('etag')) ?? '',
        });
        if (!c.ok)
          throw new CliError(
            EXIT.UNAVAILABLE,
            `the current config of ${cloud} (version ${currentVersion}) does not validate with this CLI; is it older than the server?`,
          );
        current = c.compiled;
      }

      const results = launches.map(({ launch, where }) => {
        const before: Outcome = evaluate(current, launch);
        const after: Outcome = evaluate(draft.compiled, launch);
        return { where, launch, current: before, draft: after, changed: identityOf(before) !== identityOf(after) };
      });
      const changed = results.filter((r) => r.changed);
      if (!printData(io, out, { cloud_deployment_id: cloud, current_version: currentVersion, launches: results.length, changed: changed.length, results })) {
        for (const w of draft.warnings) io.err(`warning: ${w.code}: ${w.message}\n`);
        io.out(
          table(
            ['', 'WORKLOAD', 'PROJECT', 'USER', `CURRENT (${currentVersion ? `v${currentVersion}` : 'none'})`, 'DRAFT'],
            results.map((r) => [
              r.changed ? 'CHANGED' : '',
              r.launch.workload_type,
              r.launch.project,
              r.launch.user,
              describeOutcome(r.current),
              describeOutcome(r.draft),
            ]),
            out,
          ),
        );
        io.out(
          `${changed.length} of ${results.length} launch${results.length === 1 ? '' : 'es'} would change identity${currentVersion ? ` (draft vs version ${currentVersion} of ${cloud})` : ` (${cloud} has no config yet)`}\n`,
        );
        if (v.explain) {
          for (const r of changed) {
            io.out(`\n${r.where}: ${r.launch.workload_type} ${r.launch.project} ${r.launch.user}\n`);
            for (const t of traceOf(draft.compiled, r.launch))
              io.out(t.matched ? `  rule ${t.rule_index}: MATCH  ${t.selector}\n` : `  rule ${t.rule_index}: no     ${t.selector} — ${t.reason}\n`);
          }
        }
      }
      return v['fail-on-change'] && changed.length > 0 ? EXIT.INVALID : EXIT.OK;
    },
  },

  plan: {
    usage: 'plan -n CLOUD --spec-file DRAFT [--detailed-exitcode | --fail-on-change]',
    summary: 'what storing DRAFT would create, change or delete now (like terraform plan; nothing stored)',
    help: `Sends DRAFT to the server, which validates and lints it as \`config update\` would and plans it
against what IAM and Kubernetes hold now (read only): each change as \`+ create\`, \`~ update\` or
\`- delete\` with its diff indented (policies statement by statement), what provisioning would
leave alone and why, and the sample launches whose identity would change. Nothing is stored.
  -n, --cloud CLOUD        the cloud (default: the draft's cloud_deployment_id)
  -f, --spec-file DRAFT    the draft config (YAML or JSON, as \`config get\` prints it)
  --detailed-exitcode      as terraform: exit code 0 when nothing would change, 2 when something would
  --fail-on-change         exit code 1 when something would change
  -o wide                  also the reason of every change; --no-headers: one line per change`,
    options: ['cloud', 'spec-file', 'detailed-exitcode', 'fail-on-change'],
    required: ['spec-file'],
    async run({ v, io, api, out }) {
      if (v['detailed-exitcode'] && v['fail-on-change']) throw usage('--detailed-exitcode and --fail-on-change cannot be combined');
      const spec = readSpec(v['spec-file']!);
      const cloud = v.cloud ?? draftCloudOf(spec.text);
      if (!cloud) throw usage(`\`plan\` needs --cloud (${spec.file} names no cloud_deployment_id)`);
      let plan: PlanAnswer;
      try {
        plan = (await api().request<PlanAnswer>('POST', api().cloudPath(cloud, '/iam-mapping/plan'), { body: spec.text, contentType: spec.contentType })).json;
      } catch (e) {
        throw withFileLocations(e, spec.file, spec.text, cloud);
      }
      if (!printData(io, out, plan)) printPlan(io, cloud, plan, out);
      const changed = plan.changes.length > 0;
      if (v['detailed-exitcode']) return changed ? EXIT.USAGE : EXIT.OK;
      return v['fail-on-change'] && changed ? EXIT.INVALID : EXIT.OK;
    },
  },

  lint: {
    usage: 'lint --spec-file FILE [-n CLOUD] [--strict]',
    summary: 'validate a config locally: errors (exit 1) and lint warnings',
    help: `Validates FILE exactly as the server would on PUT (no server needed) and prints each problem
as FILE:LINE:COLUMN; selector problems point at the offending character.
  -f, --spec-file FILE   the config (YAML or JSON)
  -n, --cloud CLOUD      also require cloud_deployment_id to be CLOUD
  --strict               exit code 1 on warnings too`,
    options: ['spec-file', 'cloud', 'strict'],
    required: ['spec-file'],
    local: true,
    async run({ v, io, out }) {
      const { pathParts } = await import('./spec.js');
      const { validateSpec } = await import('./local.js');
      const spec = readSpec(v['spec-file']!);
      const result = validateSpec(spec, v.cloud);
      if (!result.ok) {
        if (printData(io, out, { ok: false, errors: result.errors, warnings: [] })) return EXIT.INVALID;
        return reportInvalid(io, spec.file, spec.text, result.errors);
      }
      const warnings = [...result.notes.map((message) => ({ code: 'UNINDENTED_YAML', path: '', message })), ...result.warnings];
      if (!printData(io, out, { ok: true, errors: [], warnings })) {
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
  --wait               poll until the run has finished (6 on timeout)
Exit code 1 when the run FAILED (with or without --wait).
  --timeout SECONDS    how long --wait waits (default 300)`,
    options: ['cloud', 'version', 'wait', 'timeout'],
    required: ['cloud'],
    async run({ v, io, api, out }) {
      const version = v.version !== undefined ? positiveInt(v.version, '--version') : undefined;
      const timeoutMs = (v.timeout !== undefined ? positiveInt(v.timeout, '--timeout') : 300) * 1000;
      const path = api().cloudPath(v.cloud!, `/iam-mapping/provisioning${version ? `?version=${version}` : ''}`);
      const deadline = Date.now() + timeoutMs;
      let res = await api().request<ReplyOf<'provisioningStatus'>>('GET', path);
      while (v.wait && (res.json.status === 'PENDING' || res.json.status === 'RUNNING')) {
        if (Date.now() > deadline) {
          printRun(io, v.cloud!, res.json, out);
          throw new CliError(EXIT.UNAVAILABLE, `provisioning of version ${res.json.config_version} still ${res.json.status} after ${timeoutMs / 1000}s`);
        }
        await new Promise((r) => setTimeout(r, 500));
        res = await api().request<ReplyOf<'provisioningStatus'>>('GET', path);
      }
      printRun(io, v.cloud!, res.json, out);
      return res.json.status === 'FAILED' ? EXIT.INVALID : EXIT.OK;
    },
  },

  'drift check': {
    usage: 'drift check -n CLOUD [--repair] [--fail-on-drift] [--timeout SECONDS]',
    summary: 'run a drift check now (owner) and print the report',
    help: `  -n, --cloud CLOUD   the cloud_deployment_id
  --repair            repair what is ours even when the cloud's drift mode is \`report\`
  --fail-on-drift     exit code 1 when drift was found
  --timeout SECONDS   a check that outlasts the service's deadline goes on in the background
                      (202): how long to wait for its report (default 900; 6 on timeout)`,
    options: ['cloud', 'repair', 'fail-on-drift', 'timeout'],
    required: ['cloud'],
    async run({ v, io, api, out }) {
      const timeoutMs = (v.timeout !== undefined ? positiveInt(v.timeout, '--timeout') : 900) * 1000;
      const body = v.repair ? JSON.stringify({ repair: true }) : undefined;
      const first = await api().request<DriftReport | ReplyOf<'runDriftCheck', 202>>('POST', api().cloudPath(v.cloud!, '/drift-checks'), body ? { body } : {});
      let report: DriftReport;
      if ('requested_at' in first.json) {
        // Handed off (202): poll the latest report until it is the one that answers this request.
        const { requested_at: requestedAt, message } = first.json;
        io.err(`${message}\nwaiting for it (up to ${timeoutMs / 1000}s)…\n`);
        const deadline = Date.now() + timeoutMs;
        const latest = api().cloudPath(v.cloud!, '/drift-checks/latest');
        const background = api().cloudPath(v.cloud!, '/drift-checks/background');
        for (;;) {
          await new Promise((r) => setTimeout(r, 2000));
          const res = await api().request<DriftReport>('GET', latest, { allow: [404] });
          if (res.ok && res.json.checked_at >= requestedAt) {
            report = res.json;
            break;
          }
          // A check that failed in the background stores no report: say why instead of waiting on.
          const failed = (await api().request<ReplyOf<'backgroundDriftChecks'>>('GET', background)).json.checks.find(
            (c) => c.requested_at === requestedAt && c.status === 'failed',
          );
          if (failed) throw new CliError(EXIT.UNAVAILABLE, `the drift check of ${v.cloud} failed in the background: ${failed.error ?? 'no reason given'}`);
          if (Date.now() > deadline) {
            throw new CliError(EXIT.UNAVAILABLE, `the drift check of ${v.cloud} requested at ${requestedAt} has not reported after ${timeoutMs / 1000}s`, [
              `see it later with \`iam-mapping drift show -n ${v.cloud}\``,
            ]);
          }
        }
      } else report = first.json;
      printDrift(io, v.cloud!, report, out);
      return v['fail-on-drift'] && report.drifted ? EXIT.INVALID : EXIT.OK;
    },
  },

  'drift show': {
    usage: 'drift show -n CLOUD [--fail-on-drift]',
    summary: 'the latest drift report',
    help: `  -n, --cloud CLOUD   the cloud_deployment_id
  --fail-on-drift     exit code 1 when the report found drift`,
    options: ['cloud', 'fail-on-drift'],
    required: ['cloud'],
    async run({ v, io, api, out }) {
      let res: OkResponse<DriftReport>;
      try {
        res = await api().request<DriftReport>('GET', api().cloudPath(v.cloud!, '/drift-checks/latest'));
      } catch (e) {
        if (e instanceof CliError && e.exitCode === EXIT.NOT_FOUND) {
          throw new CliError(EXIT.NOT_FOUND, e.message, [...e.lines, `run \`iam-mapping drift check -n ${v.cloud}\` to make one`]);
        }
        throw e;
      }
      printDrift(io, v.cloud!, res.json, out);
      return v['fail-on-drift'] && res.json.drifted ? EXIT.INVALID : EXIT.OK;
    },
  },

  'clouds list': {
    usage: 'clouds list',
    summary: 'the clouds your token may see that have a config',
    help: `Lists the clouds in your token's scope that have a mapping config.`,
    options: [],
    async run({ io, api, out }) {
      const res = await api().request<ReplyOf<'listClouds'>>('GET', '/v1/clouds');
      printRows(io, out, res.json, ['CLOUD', 'VERSION', 'STACK', 'UPDATED_AT'], () =>
        res.json.map((c) => [c.cloud_deployment_id, String(c.version), `${c.cloud_provider}/${c.compute_stack}`, c.updated_at]),
      );
      return EXIT.OK;
    },
  },

  'bindings list': {
    usage: 'bindings list -n CLOUD',
    summary: 'the clusters whose identity is pinned (sticky resolution)',
    help: `  -n, --cloud CLOUD   the cloud_deployment_id`,
    options: ['cloud'],
    required: ['cloud'],
    async run({ v, io, api, out }) {
      const res = await api().request<ReplyOf<'listBindings'>>('GET', api().cloudPath(v.cloud!, '/iam-mapping/bindings'));
      printRows(io, out, res.json, ['CLUSTER', 'VALUE', 'VERSION', 'PINNED_AT'], () =>
        res.json.map((b) => [b.cluster_id, b.value ?? '(cloud default)', String(b.config_version), b.created_at]),
      );
      return EXIT.OK;
    },
  },

  'bindings forget': {
    usage: 'bindings forget -n CLOUD --cluster-id ID',
    summary: 'forget one pinned cluster: its next resolve follows the current version',
    help: `  -n, --cloud CLOUD   the cloud_deployment_id
  --cluster-id ID     the pinned cluster`,
    options: ['cloud', 'cluster-id'],
    required: ['cloud', 'cluster-id'],
    async run({ v, io, api, out }) {
      await api().request('DELETE', api().cloudPath(v.cloud!, `/iam-mapping/bindings/${encodeURIComponent(v['cluster-id']!)}`));
      if (!printData(io, out, { cloud_deployment_id: v.cloud, cluster_id: v['cluster-id'], forgotten: true })) {
        io.out(`cluster ${v['cluster-id']} of ${v.cloud} forgotten: its next resolve follows the current version\n`);
      }
      return EXIT.OK;
    },
  },
};

const GROUPS = ['config', 'provisioning', 'drift', 'clouds', 'bindings'];

// ---------------------------------------------------------------------------------------------
// Output helpers
// ---------------------------------------------------------------------------------------------

/** The output formats every command takes (`-o`); `text` is an alias of `table`. */
export const FORMATS = ['json', 'yaml', 'table', 'wide'] as const;
export type Format = (typeof FORMATS)[number];
export interface Out {
  format: Format;
  noHeaders: boolean;
  /** Columns a `table` may use (COLUMNS, else 120); `wide` never truncates. */
  width: number;
}

/** Prints `data` as JSON or YAML when that is the chosen format; false when the caller prints a table. */
function printData(io: Io, out: Out, data: unknown): boolean {
  if (out.format === 'json') io.out(`${JSON.stringify(data, null, 2)}\n`);
  else if (out.format === 'yaml') io.out(toYaml(data, { lineWidth: 0 }));
  else return false;
  return true;
}

/** A listing: `data` as JSON or YAML when that is the chosen format, else a table of `rows` (made only then). */
function printRows(io: Io, out: Out, data: unknown, headers: string[], rows: () => string[][]): void {
  if (!printData(io, out, data)) io.out(table(headers, rows(), out));
}

/**
 * A table in kubectl's manner: columns padded by two spaces, headers unless --no-headers. In
 * `table` format the last column, then the widest, are cut (with …) until the table fits `width`;
 * `wide` prints every cell whole.
 */
export function table(headers: string[], rows: string[][], out: Partial<Out> = {}): string {
  const flat = rows.map((r) => headers.map((_, i) => (r[i] ?? '').replace(/\s*\n\s*/g, ' ')));
  const widths = headers.map((h, i) => Math.max(out.noHeaders ? 0 : h.length, ...flat.map((r) => r[i]!.length)));
  if (out.format !== 'wide') {
    const limit = out.width ?? 120;
    const floor = headers.map((h) => Math.max(h.length, 12));
    const total = () => widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1);
    // The last column (free text: detail, error, actual) gives way first, down to 30 characters,
    // then the widest column, one character at a time.
    const last = widths.length - 1;
    const lastFloor = Math.max(floor[last]!, 30);
    if (total() > limit && widths[last]! > lastFloor) widths[last] = Math.max(lastFloor, widths[last]! - (total() - limit));
    let excess = total() - limit;
    while (excess > 0) {
      let widest = -1;
      for (let i = 0; i < widths.length; i++) if (widths[i]! > floor[i]! && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
      if (widest < 0) break;
      widths[widest]!--;
      excess--;
    }
  }
  const fit = (c: string, i: number) => (c.length > widths[i]! ? `${c.slice(0, Math.max(1, widths[i]! - 1))}…` : c);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? fit(c, i) : fit(c, i).padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[...(out.noHeaders ? [] : [line(headers)]), ...flat.map(line)].join('\n')}\n`;
}

function printRun(io: Io, cloud: string, run: ReplyOf<'provisioningStatus'>, out: Out): void {
  if (printData(io, out, run)) return;
  const when = [run.started_at && `started ${run.started_at}`, run.finished_at && `finished ${run.finished_at}`].filter(Boolean).join(', ');
  if (!out.noHeaders) {
    io.out(`cloud ${cloud}, config version ${run.config_version}: ${run.status}${when ? ` (${when})` : ''}\n`);
    if (run.reason) io.out(`reason: ${run.reason}\n`);
    if (run.error) io.out(`error: ${run.error.name}: ${run.error.message}\n`);
    for (const w of run.warnings ?? []) io.out(`warning ${w.code}: ${w.message}\n`);
  }
  if (run.items?.length) {
    if (!out.noHeaders) io.out('\n');
    io.out(
      table(
        ['ITEM', 'KIND', 'STATUS', 'ERROR'],
        run.items.map((i) => [i.name, i.kind, i.status, i.error ? `${i.error.name}: ${i.error.message}` : '']),
        out,
      ),
    );
  }
  if (run.resources?.length) {
    if (!out.noHeaders) io.out('\n');
    const wide = out.format === 'wide';
    io.out(
      table(
        ['RESOURCE', 'NAME', 'NAMESPACE', ...(wide ? ['CLUSTER'] : []), 'ACTION', 'DETAIL'],
        run.resources.map((r) => [r.kind, r.name, r.namespace ?? '', ...(wide ? [r.cluster ?? ''] : []), r.action, r.detail ?? '']),
        out,
      ),
    );
  }
}

type DriftReport = ReplyOf<'latestDriftReport'>;

function printDrift(io: Io, cloud: string, report: DriftReport, out: Out): void {
  if (printData(io, out, report)) return;
  const findings = report.findings;
  if (!out.noHeaders) {
    io.out(
      `cloud ${cloud}, checked ${report.checked_at}: ${report.drifted ? `DRIFTED (${findings.length} finding${findings.length === 1 ? '' : 's'})` : 'no drift'}\n`,
    );
  }
  if (findings.length) {
    if (!out.noHeaders) io.out('\n');
    const severity = findings.some((f) => f.severity !== undefined);
    const wide = out.format === 'wide';
    io.out(
      table(
        [...(severity ? ['SEVERITY'] : []), 'KIND', 'NAME', ...(wide ? ['RESOURCE', 'REPAIRABLE'] : []), 'EXPECTED', 'ACTUAL'],
        findings.map((f) => [
          ...(severity ? [String(f.severity ?? '')] : []),
          String(f.kind),
          String(f.name),
          ...(wide ? [String(f.resource ?? ''), f.repairable === undefined ? '' : f.repairable ? 'yes' : 'no'] : []),
          shortJson(f.expected, wide),
          shortJson(f.actual, wide),
        ]),
        out,
      ),
    );
    if (out.noHeaders) return;
    // What changed, in words, one line per finding.
    io.out('\n');
    for (const f of findings) if (typeof f.message === 'string') io.out(`- ${f.message}\n`);
  }
  if (out.noHeaders) return;
  const repair = report.repair;
  if (repair) {
    const parts: string[] = [];
    if (repair.items?.length) parts.push(`re-provisioning ${repair.items.join(', ')}${repair.execution_id ? ` (execution ${repair.execution_id})` : ''}`);
    if (repair.deleted?.length) parts.push(`deleted ${repair.deleted.join(', ')}`);
    if (repair.skipped) parts.push(`${repair.skipped} finding${repair.skipped === 1 ? '' : 's'} left alone (not ours, or not repairable)`);
    for (const e of repair.errors ?? []) parts.push(`could not: ${e}`);
    io.out(`\nrepair: ${parts.length ? parts.join('; ') : 'nothing to do'}\n`);
  }
}

type PlanAnswer = ReplyOf<'planConfig'>;

/** The draft's cloud_deployment_id, when the file names one (the server checks it against the path). */
function draftCloudOf(text: string): string | undefined {
  const m = /^\s*"?cloud_deployment_id"?\s*:\s*"?([A-Za-z0-9_.-]+)"?/m.exec(text);
  return m?.[1];
}

const PLAN_SYMBOL = { create: '+', update: '~', delete: '-' } as const;

/** \`terraform plan\`'s manner: one block per change, its diff indented, then the count. */
function printPlan(io: Io, cloud: string, plan: PlanAnswer, out: Out): void {
  for (const w of plan.warnings) io.err(`warning: ${w.code}: ${w.message}\n`);
  const where = (c: { cluster?: string }) => (c.cluster ? ` (cluster ${c.cluster})` : '');
  if (out.noHeaders) {
    io.out(
      table(
        ['', 'ACTION', 'KIND', 'NAME'],
        plan.changes.map((c) => [PLAN_SYMBOL[c.action], c.action, c.kind, `${c.name}${where(c)}`]),
        out,
      ),
    );
    return;
  }
  const wide = out.format === 'wide';
  io.out(
    `cloud ${cloud}: the draft against ${plan.current_version ? `version ${plan.current_version}` : 'no config yet'} and what IAM and Kubernetes hold now (nothing stored)\n`,
  );
  if (plan.reason) io.out(`${plan.reason}\n`);
  if (plan.changes.length === 0)
    io.out(
      plan.left_alone.length === 0
        ? '\nNo changes. What exists matches the draft.\n'
        : `\nNo changes provisioning would make; ${plan.left_alone.length} left alone (below), which a run of this draft refuses or leaves as it is.\n`,
    );
  else {
    io.out('\nApplying the draft would:\n');
    for (const c of plan.changes) {
      const note =
        c.action !== 'delete'
          ? ''
          : c.by_provisioning
            ? ' (by the provisioning run)'
            : c.deferred
              ? ' (deferred: provisioning.drift.delete_orphans is off)'
              : ' (by the next drift repair)';
      io.out(`\n  ${PLAN_SYMBOL[c.action]} ${c.action} ${c.kind} ${c.name}${where(c)}${note}\n`);
      if (c.reason && (wide || c.action !== 'delete')) io.out(`      # ${c.reason}\n`);
      for (const line of c.diff ? c.diff.split('\n') : []) io.out(`      ${line}\n`);
    }
  }
  if (plan.left_alone.length) {
    io.out('\nLeft alone (provisioning would not touch these):\n');
    for (const a of plan.left_alone) io.out(`  ! ${a.kind} ${a.name}${where(a)}: ${a.reason}\n`);
  }
  if (plan.launches.length) {
    const outcome = (value: string | null, source: string) => (source === 'NO_MATCH' ? 'no match (FAIL)' : (value ?? '(cloud default)'));
    io.out(
      `\nLaunches that would change identity (${plan.launches.length}${plan.launches_truncated ? ` of ${plan.launches.length + plan.launches_truncated}` : ''}, of ${plan.launches_checked} sampled):\n`,
    );
    io.out(
      table(
        ['WORKLOAD', 'PROJECT', 'USER', 'NOW', 'DRAFT', ...(wide ? ['SAMPLED FROM'] : [])],
        plan.launches.map((l) => [
          l.workload_type,
          l.project,
          l.user,
          `${outcome(l.from, l.from_source)}${l.cluster_id ? ` (pinned: ${l.cluster_id})` : ''}`,
          outcome(l.to, l.to_source),
          ...(wide ? [l.derived_from] : []),
        ]),
        out,
      ).replace(/^(?=.)/gm, '  '),
    );
  } else if (plan.current_version) io.out(`\nNo sampled launch changes identity (${plan.launches_checked} sampled).\n`);
  const { create, update, delete: destroy } = plan.summary;
  io.out(`\nPlan: ${create} to create, ${update} to change, ${destroy} to destroy.\n`);
}

function shortJson(v: unknown, wide = false): string {
  const s = typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v);
  return !wide && s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

function reportInvalid(io: Io, file: string, text: string, errors: Array<Record<string, unknown> & { path: string; message: string }>): ExitCode {
  for (const e of errors) io.err(`${locationOf(file, text, e)}: error: ${e.path && !e.message.startsWith(`${e.path} `) ? `${e.path}: ` : ''}${e.message}\n`);
  io.err(`${file}: ${errors.length} error${errors.length === 1 ? '' : 's'}\n`);
  return EXIT.INVALID;
}

/** A 400 of PUT with details: point each at FILE:LINE:COL; a 412 says who changed it. */
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

function outputOf(v: Values, env: NodeJS.ProcessEnv, fallback: Format): Out {
  const raw = v.output ?? fallback;
  const format = raw === 'text' ? 'table' : raw;
  if (!(FORMATS as readonly string[]).includes(format)) throw usage(`--output must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(raw)}`);
  const columns = Number(env.COLUMNS);
  return { format: format as Format, noHeaders: v['no-headers'] === true, width: Number.isInteger(columns) && columns >= 40 ? columns : 120 };
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

${OUTPUT_HELP}

${CONNECTION_HELP}

${EXIT_HELP}
`;
}

function commandHelp(c: Command): string {
  return `Usage: iam-mapping ${c.usage}

${c.summary[0]!.toUpperCase()}${c.summary.slice(1)}.

${c.help}

${OUTPUT_HELP}
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
  const v = parsed.values;
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
    const allowed = new Set<OptionName>([...command.options, 'help', 'output', 'no-headers', ...(command.local ? [] : (['endpoint', 'token'] as const))]);
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
      out: outputOf(v, io.env, command.defaultOutput ?? 'table'),
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
  // A reader that stops early (`| head`) closes the pipe: stop writing, quietly, without a stack trace.
  let closed = false;
  const onError = (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    closed = true;
  };
  process.stdout.on('error', onError);
  process.stderr.on('error', onError);
  return {
    out: (t) => void (closed || process.stdout.write(t)),
    err: (t) => void (closed || process.stderr.write(t)),
    env: process.env,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await run(process.argv.slice(2));
}
