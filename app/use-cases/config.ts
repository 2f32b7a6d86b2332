/** Use cases of mapping configs: store a new version (and start its provisioning), read one, list the history. */
import type { Principal } from '../../lib/auth.js';
import { parseConfigBody, refuseDuplicateKeys, versionDetail, withoutVersion } from '../../lib/config/parse.js';
import type { MappingConfig } from '../../lib/config/schema.js';
import { checkStackChange, type Stack } from '../../lib/config/stack-change.js';
import { identityCeiling, validateConfigAsync } from '../../lib/config/validate.js';
import { AppError } from '../../lib/errors.js';
import type { IfMatch, VersionMeta } from '../../lib/ports.js';
import { nextTurn } from '../../lib/steps.js';
import type { App } from '../app.js';
import { startProvisioning } from './provisioning.js';

export interface PutConfigInput {
  cloudId: string;
  /** The request body: JSON or YAML text by its Content-Type. */
  body: { text: string; contentType: string | undefined };
  principal: Principal;
  ifMatch?: IfMatch;
  /** The request confirms a change of cloud_provider / compute_stack (else such a PUT is 409). */
  confirmStackChange?: boolean;
}

/**
 * Parses (JSON or YAML) and validates the document, commits it as a new version, and starts its provisioning run.
 * A document equal to the current version stores nothing and starts nothing: that version with `unchanged: true`.
 */
export async function putConfig(app: Pick<App, 'config' | 'stores' | 'workflow' | 'resolution'>, input: PutConfigInput) {
  const { cloudId } = input;
  const { body, result } = await parseAndValidate(app, cloudId, input.body);
  const previous = await app.stores.configs.getVersion(cloudId);
  const stackChange = checkStackChange(cloudId, previous ? (previous.document as unknown as Stack) : null, result.config, input.confirmStackChange === true);
  const meta = await app.stores.configs.putVersion({
    cloudId,
    document: result.config,
    createdBy: input.principal.subject,
    createdScope: input.principal.clouds,
    ruleCount: result.config.dataplane_iam_mapping.rules.length,
    ...(input.ifMatch ? { ifMatch: input.ifMatch } : {}),
  });
  const notes = body.notes.map((message) => ({ code: 'UNINDENTED_YAML' as const, path: '', message }));
  const warnings = [...notes, ...result.warnings];
  if (meta.unchanged) {
    // Equal (by canonical content hash) to the current version: nothing stored, nothing to provision.
    return {
      meta,
      started: undefined,
      response: { cloud_deployment_id: cloudId, version: meta.version, etag: meta.etag, unchanged: true as const, warnings },
    };
  }
  app.resolution.invalidate(cloudId);
  const started = await startProvisioning(app, cloudId, meta.version);
  return {
    meta,
    started,
    response: {
      cloud_deployment_id: cloudId,
      version: meta.version,
      etag: meta.etag,
      warnings: [...(stackChange ? [stackChange] : []), ...warnings, ...(await pinnedWarnings(app, cloudId, result.config, meta.version))],
      provisioning:
        'executionId' in started
          ? { status: 'PENDING' as const, execution_id: started.executionId }
          : { status: 'PENDING' as const, error: 'the provisioning workflow could not be started now; the scheduled check will start it' },
    },
  };
}

/** Parses (JSON or YAML) and validates a config body as PUT does: 400 INVALID_CONFIG with every problem. */
/** Bodies past this many UTF-16 units get a turn of the event loop between parse and validation. */
const LARGE_BODY = 256 * 1024;

export async function parseAndValidate(app: Pick<App, 'config'>, cloudId: string, input: PutConfigInput['body']) {
  const large = input.text.length > LARGE_BODY;
  const body = parseConfigBody(input.text, input.contentType, { duplicateKeys: large ? 'later' : 'now' });
  const { document, problem } = withoutVersion(body.document);
  // A large body's parse (one JSON.parse / YAML read, not sliceable), its key scan and the first
  // slice of its validation run in separate turns of the event loop.
  if (large && body.format === 'json') {
    await nextTurn();
    refuseDuplicateKeys(input.text);
  }
  if (large) await nextTurn();
  const result = await validateConfigAsync(document, {
    cloudId,
    locate: body.locate,
    deployment: app.config.defaults,
    maxIdentities: app.config.maxIdentities ?? identityCeiling(undefined),
  });
  const errors = [...versionDetail(problem, body.locate), ...(result.ok ? [] : result.errors)];
  if (!result.ok || errors.length > 0) {
    const first = errors[0]!;
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
    throw new AppError(
      'INVALID_CONFIG',
      `invalid mapping config: ${first.path && !first.message.startsWith(first.path) ? `${first.path}: ` : ''}${first.message}${more}`,
      errors,
    );
  }
  return { body, result };
}

/** One stored version (default: the latest); NOT_FOUND when there is none. */
export async function getConfig(app: Pick<App, 'stores'>, cloudId: string, version?: number) {
  const stored = await app.stores.configs.getVersion(cloudId, version);
  if (!stored) {
    throw new AppError('NOT_FOUND', version ? `cloud ${cloudId} has no config version ${version}` : `cloud ${cloudId} has no IAM mapping config`);
  }
  return stored;
}

/** The version history, newest first; NOT_FOUND for a cloud without any. */
export async function listVersions(app: Pick<App, 'stores'>, cloudId: string, options: { limit: number; before?: number }) {
  const { configs } = app.stores;
  const list = await configs.listVersions(cloudId, { limit: options.limit, ...(options.before ? { beforeVersion: options.before } : {}) });
  if (list.length === 0 && !options.before && !(await configs.getLatestMeta(cloudId))) {
    throw new AppError('NOT_FOUND', `cloud ${cloudId} has no IAM mapping config`);
  }
  return { cloud_deployment_id: cloudId, versions: list.map(versionView) };
}

export function versionView(meta: VersionMeta) {
  return {
    version: meta.version,
    etag: meta.etag,
    created_at: meta.createdAt,
    created_by: meta.createdBy,
    ...(meta.createdScope ? { created_scope: meta.createdScope } : {}),
    rule_count: meta.ruleCount,
    content_hash: meta.contentHash,
  };
}

/**
 * Clusters pinned by sticky resolution keep their first answer: when the new version no longer
 * gives that identity (no rule value or default names it), say so — the pin can be forgotten
 * with DELETE …/iam-mapping/bindings/{cluster_id}.
 */
export async function pinnedWarnings(app: Pick<App, 'stores'>, cloudId: string, config: MappingConfig, version: number) {
  const pins = await app.stores.sticky.listSticky(cloudId);
  if (pins.length === 0) return [];
  const given = new Set(config.dataplane_iam_mapping.rules.map((r) => r.value));
  if (config.dataplane_iam_mapping.default_value !== undefined) given.add(config.dataplane_iam_mapping.default_value);
  const byValue = new Map<string, string[]>();
  for (const { clusterId, resolution } of pins) {
    if (resolution.value === null || given.has(resolution.value)) continue;
    byValue.set(resolution.value, [...(byValue.get(resolution.value) ?? []), clusterId]);
  }
  return [...byValue].map(([value, clusters]) => ({
    code: 'PINNED_IDENTITY' as const,
    path: 'dataplane_iam_mapping.rules',
    message:
      `${clusters.length} pinned cluster${clusters.length === 1 ? '' : 's'} (${clusters.slice(0, 5).join(', ')}${clusters.length > 5 ? ', …' : ''}) keep identity ${value}, ` +
      `which version ${version} no longer gives; forget a pin with DELETE /v1/clouds/${cloudId}/iam-mapping/bindings/{cluster_id} (iam-mapping bindings forget)`,
  }));
}
