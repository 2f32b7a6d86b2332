/**
 * The packaged CloudFormation template's IAM roles, evaluated with a third-party IAM evaluator
 * (@cloud-copilot/iam-simulate): the intrinsics the template uses (Fn::Sub, Ref, Fn::GetAtt,
 * Fn::If over its Conditions, Fn::Split) are resolved into concrete ARNs of the given account, as
 * CloudFormation would name the resources. Shared by test/deploy/iam-policy.test.ts (the policies'
 * intent) and test/deploy/task-permissions.int.test.ts (every sandbox call of every function).
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export interface Template {
  Conditions?: Record<string, Json>;
  Resources: Record<string, { Type: string; Properties: Record<string, Json> }>;
}
export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';
export type Policy = { name: string; policy: any };

const NO_VALUE = Symbol('NoValue');

export interface TemplateEvaluator {
  /** The inline policies of a role resource (logical id), resolved. */
  rolePolicies(name: string): Policy[];
  /** The role (logical id) a serverless function (`provisionPlan`, `drift`) runs as. */
  functionRole(fn: string): string;
  boundaryArn(): string;
  boundaryDocument(): any;
  /** iam-simulate's decision for the role (logical id) calling `action` on `resource` with `context`. */
  decide(
    roleName: string,
    action: string,
    resource: string,
    context?: Record<string, string | string[]>,
    extra?: { permissionBoundaryPolicies?: Policy[]; identityPolicies?: Policy[] },
  ): Promise<Decision>;
}

export function templateEvaluator(template: Template, where: { account: string; region: string; stage: string }): TemplateEvaluator {
  const { account, region, stage } = where;

  /** Resolves the intrinsics of `value` for the account and region (names of resources as CloudFormation would make them). */
  function resolveIntrinsics(value: Json, t: Template): Json {
    const refs: Record<string, string> = {
      'AWS::Partition': 'aws',
      'AWS::AccountId': account,
      'AWS::Region': region,
      WorkloadBoundary: `arn:aws:iam::${account}:policy/${String((t.Resources.WorkloadBoundary?.Properties as Record<string, Json>).ManagedPolicyName)}`,
    };
    const attrs: Record<string, string> = {
      'MappingTable.Arn': `arn:aws:dynamodb:${region}:${account}:table/iam-mapping-${stage}`,
    };
    const condition = (name: string): boolean => Boolean(walk(t.Conditions?.[name] ?? false));
    const walk = (v: Json): any => {
      if (Array.isArray(v)) return v.map(walk).filter((x) => x !== NO_VALUE);
      if (v === null || typeof v !== 'object') return v;
      const keys = Object.keys(v);
      if (keys.length === 1) {
        const [k] = keys as [string];
        const arg = v[k] as Json;
        switch (k) {
          case 'Ref':
            if (arg === 'AWS::NoValue') return NO_VALUE;
            if (typeof arg === 'string' && arg in refs) return refs[arg];
            throw new Error(`unresolved Ref ${String(arg)}`);
          case 'Fn::GetAtt': {
            const key = Array.isArray(arg) ? arg.join('.') : String(arg);
            if (key in attrs) return attrs[key];
            if (key.endsWith('Role.Arn')) return `arn:aws:iam::${account}:role/${key.slice(0, -4)}`;
            throw new Error(`unresolved GetAtt ${key}`);
          }
          case 'Fn::Sub': {
            const text = Array.isArray(arg) ? String(arg[0]) : String(arg);
            return text.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
              if (name in refs) return refs[name] as string;
              if (name in attrs) return attrs[name] as string;
              throw new Error(`unresolved Sub \${${name}}`);
            });
          }
          case 'Fn::If': {
            const [name, yes, no] = arg as [string, Json, Json];
            return walk(condition(name) ? yes : no);
          }
          case 'Fn::Not':
            return !walk((arg as Json[])[0] as Json);
          case 'Fn::Equals': {
            const [a, b] = (arg as Json[]).map(walk);
            return a === b;
          }
          case 'Fn::Split': {
            const [sep, text] = (arg as Json[]).map(walk) as [string, string];
            return text.split(sep);
          }
          default:
            if (k.startsWith('Fn::')) throw new Error(`unsupported intrinsic ${k}`);
        }
      }
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        const r = walk(x);
        if (r !== NO_VALUE) out[k] = r;
      }
      return out;
    };
    return walk(value);
  }

  const rolePolicies = (name: string): Policy[] => {
    const role = template.Resources[name];
    if (role?.Type !== 'AWS::IAM::Role') throw new Error(`no role ${name} in the template`);
    const policies = (role.Properties.Policies ?? []) as Array<{ PolicyName: string; PolicyDocument: Json }>;
    return policies.map((p) => ({ name: p.PolicyName, policy: resolveIntrinsics(p.PolicyDocument, template) }));
  };

  return {
    rolePolicies,
    functionRole(fn) {
      const resource = template.Resources[`${fn.charAt(0).toUpperCase()}${fn.slice(1)}LambdaFunction`];
      if (!resource) throw new Error(`no function ${fn} in the template`);
      return (resource.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    },
    boundaryArn: () => `arn:aws:iam::${account}:policy/iam-mapping-${stage}-workload-boundary`,
    boundaryDocument: () => resolveIntrinsics(template.Resources.WorkloadBoundary!.Properties.PolicyDocument as Json, template),
    async decide(roleName, action, resource, context = {}, extra = {}) {
      const result = await runSimulation(
        {
          identityPolicies: extra.identityPolicies ?? rolePolicies(roleName),
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          ...(extra.permissionBoundaryPolicies ? { permissionBoundaryPolicies: extra.permissionBoundaryPolicies } : {}),
          request: {
            principal: `arn:aws:iam::${account}:role/${roleName}`,
            action,
            resource: { accountId: account, resource },
            contextVariables: context,
          },
        },
        {},
      );
      if (result.resultType === 'error') throw new Error(`simulation error: ${JSON.stringify(result.errors)}`);
      return result.overallResult;
    },
  };
}
