/**
 * The sandbox's policy simulator (IAM `SimulatePrincipalPolicy`): a role's identity policies —
 * inline and attached managed, plus any `PolicyInputList` — and its permissions boundary (or a
 * `PermissionsBoundaryPolicyInputList`) are evaluated per action × resource with
 * @cloud-copilot/iam-simulate, the evaluator the deploy tests already trust (explicit Deny,
 * NotAction/NotResource, condition operators and IAM's context keys such as iam:PassedToService).
 * Answers carry IAM's shape: EvaluationResults (EvalDecision `allowed` | `explicitDeny` |
 * `implicitDeny`, MatchedStatements with each statement's start and end position in its policy,
 * MissingContextValues, PermissionsBoundaryDecisionDetail, ResourceSpecificResults), paged by
 * MaxItems/Marker. Only roles are principals here (the sandbox has no users or groups). As
 * elsewhere in the sandbox, an AWS-managed policy stands in as allow-all.
 */
import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { iamError, invalidInput, noSuchEntity, validationError } from './iam-errors.js';
import type { IamState } from './iam-state.js';
import type { XmlObject } from './iam-xml.js';
import { decodeToken, encodeToken } from './util.js';

export interface SimulationRequest {
  policySourceArn: string | undefined;
  actionNames: string[];
  resourceArns: string[];
  contextEntries: Array<{ key: string; type: string | undefined; values: string[] }>;
  policyInputList: string[];
  permissionsBoundaryPolicyInputList: string[];
  maxItems: number | undefined;
  marker: string | undefined;
}

interface SourcePolicy {
  id: string;
  type: 'role' | 'aws-managed' | 'user-managed' | 'none';
  text: string;
}

interface Position {
  Line: number;
  Column: number;
}

const ROLE_ARN = /^arn:aws:iam::(\d{12}):role(\/(?:[\u0021-\u007E]+\/)?)?([\w+=,.@-]+)$/;
const PRINCIPAL_ARN = /^arn:aws:iam::(\d{12}):(user|group|role)\/(?:[\u0021-\u007E]*\/)?([\w+=,.@-]+)$/;
const CONTEXT_TYPES = new Set([
  'string',
  'stringList',
  'numeric',
  'numericList',
  'boolean',
  'booleanList',
  'ip',
  'ipList',
  'binary',
  'binaryList',
  'date',
  'dateList',
]);

/** Line and column (1-based) of every element of the policy's `Statement` array (or of the single statement object). */
export function statementPositions(text: string): Array<{ start: Position; end: Position }> {
  const at = (offset: number): Position => {
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    return { Line: line, Column: offset - before.lastIndexOf('\n') };
  };
  const keyMatch = /"Statement"\s*:\s*/.exec(text);
  if (!keyMatch) return [];
  let i = keyMatch.index + keyMatch[0].length;
  const spans: Array<{ start: Position; end: Position }> = [];
  const single = text[i] === '{';
  if (!single) i++; // past '['
  let depth = 0;
  let start = -1;
  let inString = false;
  for (; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') {
      if (depth === 0 && c === '{') start = i;
      depth++;
    } else if (c === '}' || c === ']') {
      if (depth === 0) break; // end of the Statement array
      depth--;
      if (depth === 0 && c === '}') {
        spans.push({ start: at(start), end: at(i + 1) });
        if (single) break;
      }
    }
  }
  return spans;
}

function sourcePolicies(iam: IamState, roleName: string, extra: string[]): { identity: SourcePolicy[]; boundary: SourcePolicy | null } {
  const role = iam.getRole(roleName);
  const identity: SourcePolicy[] = Object.keys(role.inlinePolicies)
    .sort()
    .map((name) => ({ id: name, type: 'role' as const, text: role.inlinePolicies[name] as string }));
  for (const { policyArn } of iam.listAttachedRolePolicies(role.roleName)) {
    const policy = iam.getPolicy(policyArn);
    identity.push({ id: policy.name, type: policy.awsManaged ? 'aws-managed' : 'user-managed', text: policy.document });
  }
  extra.forEach((text, i) => identity.push({ id: `PolicyInputList.${i + 1}`, type: 'none', text }));
  const boundaryArn = role.permissionsBoundaryArn;
  const boundary = boundaryArn ? { id: iam.getPolicy(boundaryArn).name, type: 'none' as const, text: iam.getPolicy(boundaryArn).document } : null;
  return { identity, boundary };
}

const parseJson = (text: string, what: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    throw iamError('MalformedPolicyDocument', `${what} contains invalid Json`);
  }
};

/** Condition keys of the statements that apply to the request (action and resource match) that the request did not supply. */
function missingContextKeys(
  statements: Array<{ actionMatch: boolean; resourceMatch: boolean; statement: { conditions(): Array<{ conditionKey(): string }> } }>,
  given: Set<string>,
): string[] {
  const missing = new Set<string>();
  for (const s of statements) {
    if (!s.actionMatch || !s.resourceMatch) continue;
    for (const c of s.statement.conditions()) if (!given.has(c.conditionKey().toLowerCase())) missing.add(c.conditionKey());
  }
  return [...missing].sort();
}

export async function simulatePrincipalPolicy(iam: IamState, req: SimulationRequest): Promise<XmlObject> {
  if (req.policySourceArn === undefined) throw validationError('policySourceArn', undefined, 'Member must not be null');
  if (req.actionNames.length === 0) throw validationError('actionNames', undefined, 'Member must not be null');
  const maxItems = req.maxItems ?? 100;
  if (maxItems < 1 || maxItems > 1000) throw validationError('maxItems', String(maxItems), 'Member must have value between 1 and 1000');
  const principal = PRINCIPAL_ARN.exec(req.policySourceArn);
  if (!principal) throw invalidInput(`Invalid ARN ${req.policySourceArn}`);
  const [, account, type, name] = principal as unknown as [string, string, string, string];
  if (type !== 'role') throw noSuchEntity(`The ${type} with name ${name} cannot be found.`);
  const role = iam.getRole(name);
  if (account !== iam.accountId || role.arn !== req.policySourceArn || !ROLE_ARN.test(role.arn)) {
    throw noSuchEntity(`The role with name ${name} cannot be found.`);
  }
  const contextVariables: Record<string, string | string[]> = {};
  for (const entry of req.contextEntries) {
    if (entry.type !== undefined && !CONTEXT_TYPES.has(entry.type)) {
      throw validationError('contextEntries.member.contextKeyType', entry.type, `Member must satisfy enum value set: [${[...CONTEXT_TYPES].join(', ')}]`);
    }
    contextVariables[entry.key] = entry.type?.endsWith('List') ? entry.values : (entry.values[0] ?? '');
  }
  const given = new Set(Object.keys(contextVariables).map((k) => k.toLowerCase()));
  const { identity, boundary: roleBoundary } = sourcePolicies(iam, role.roleName, req.policyInputList);
  const boundary =
    req.permissionsBoundaryPolicyInputList.length > 0
      ? req.permissionsBoundaryPolicyInputList.map((text, i) => ({ id: `PermissionsBoundaryPolicyInputList.${i + 1}`, type: 'none' as const, text }))
      : roleBoundary
        ? [roleBoundary]
        : [];
  const byId = new Map(identity.map((p) => [p.id, p] as const));
  const positions = new Map(identity.map((p) => [p.id, statementPositions(p.text)] as const));

  const all: XmlObject[] = [];
  for (const action of req.actionNames) {
    for (const resource of req.resourceArns.length > 0 ? req.resourceArns : ['*']) {
      const simulation: Simulation = {
        identityPolicies: identity.map((p) => ({ name: p.id, policy: parseJson(p.text, p.id) })),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        ...(boundary.length > 0 ? { permissionBoundaryPolicies: boundary.map((p) => ({ name: p.id, policy: parseJson(p.text, p.id) })) } : {}),
        request: { action, principal: role.arn, resource: { accountId: iam.accountId, resource }, contextVariables },
      };
      const result = await runSimulation(simulation, {});
      if (result.resultType === 'error') throw invalidInput(`The simulation could not be run: ${result.errors.message}`);
      const analysis = result.resultType === 'single' ? result.result.analysis : result.results[0]?.analysis;
      const decision = result.overallResult === 'Allowed' ? 'allowed' : result.overallResult === 'ExplicitlyDenied' ? 'explicitDeny' : 'implicitDeny';
      const ia = analysis?.identityAnalysis;
      const deciding = decision === 'explicitDeny' ? (ia?.denyStatements ?? []) : decision === 'allowed' ? (ia?.allowStatements ?? []) : [];
      const matched = deciding
        .filter((s) => byId.has(s.policyId))
        .map((s) => {
          const source = byId.get(s.policyId) as SourcePolicy;
          const span = positions.get(s.policyId)?.[s.statement.index() - 1];
          return {
            SourcePolicyId: source.id,
            SourcePolicyType: source.type,
            ...(span ? { StartPosition: { ...span.start }, EndPosition: { ...span.end } } : {}),
          };
        });
      const missing = missingContextKeys([...(ia?.allowStatements ?? []), ...(ia?.denyStatements ?? []), ...(ia?.unmatchedStatements ?? [])], given);
      const boundaryDetail = boundary.length > 0 ? { AllowedByPermissionsBoundary: analysis?.permissionBoundaryAnalysis?.result === 'Allowed' } : undefined;
      all.push({
        EvalActionName: action,
        EvalResourceName: resource,
        EvalDecision: decision,
        MatchedStatements: matched,
        MissingContextValues: missing,
        PermissionsBoundaryDecisionDetail: boundaryDetail,
        ResourceSpecificResults: [
          {
            EvalResourceName: resource,
            EvalResourceDecision: decision,
            MatchedStatements: matched,
            MissingContextValues: missing,
            PermissionsBoundaryDecisionDetail: boundaryDetail,
          },
        ],
      });
    }
  }

  let start = 0;
  if (req.marker !== undefined) {
    const from = decodeToken<{ from: number }>(req.marker)?.from;
    if (typeof from !== 'number' || from < 0 || from > all.length) throw invalidInput('Invalid Marker.');
    start = from;
  }
  const page = all.slice(start, start + maxItems);
  const truncated = start + maxItems < all.length;
  return { EvaluationResults: page, IsTruncated: truncated, Marker: truncated ? encodeToken({ from: start + maxItems }) : undefined };
}
