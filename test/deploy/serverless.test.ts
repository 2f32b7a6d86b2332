/**
 * The deployed shape stays in step with the code: every route the local server serves is an
 * API Gateway route of the same function (with the JWT authorizer where the route needs auth),
 * every Task of the one ASL definition names a deployed function, and `osls package` works
 * offline and emits that state machine.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { STEP_FUNCTIONS } from '../../functions/provisioning.js';
import { ROUTES } from '../../functions/routes.js';
import { loadDefinition, taskStates } from '../../local/workflow-runner.js';
import { packagedTemplate } from '../helpers/osls.js';

const root = join(import.meta.dirname, '../..');
const serverless = parseDocument(readFileSync(join(root, 'serverless.yml'), 'utf8'), { logLevel: 'silent' }).toJS({ maxAliasCount: -1 }) as {
  functions: Record<string, { handler: string; events?: Array<{ httpApi?: { method: string; path: string; authorizer?: { name: string } } }> }>;
};

describe('serverless.yml', () => {
  it('declares every route of the route table on the same function, with the JWT authorizer where auth is needed', () => {
    const declared = Object.entries(serverless.functions).flatMap(([fn, f]) =>
      (f.events ?? [])
        .filter((e) => e.httpApi)
        .map((e) => ({ fn, method: e.httpApi!.method, path: e.httpApi!.path, auth: e.httpApi!.authorizer?.name === 'jwt' })),
    );
    const expected = ROUTES.map((r) => ({ fn: r.fn, method: r.method, path: r.path, auth: r.permission !== null }));
    expect(declared.sort(byKey)).toEqual(expected.sort(byKey));
    // Function by function: each serves exactly its routes of the table.
    for (const fn of new Set(expected.map((e) => e.fn))) {
      expect(declared.filter((d) => d.fn === fn).sort(byKey), fn).toEqual(expected.filter((e) => e.fn === fn).sort(byKey));
    }
  });

  it('deploys a function for every Task of the state machine, with the step handler', () => {
    const tasks = taskStates(loadDefinition());
    expect(tasks.length).toBeGreaterThan(5);
    for (const { fn } of tasks) {
      expect(Object.keys(STEP_FUNCTIONS)).toContain(fn);
      expect(serverless.functions[fn]?.handler).toBe(`functions/provisioning.${STEP_FUNCTIONS[fn as keyof typeof STEP_FUNCTIONS]}`);
    }
  });

  it('`osls package` works offline and emits the state machine from the ASL file', async () => {
    {
      const template = await packagedTemplate<{
        Resources: Record<string, { Type: string; DeletionPolicy?: string; UpdateReplacePolicy?: string; Properties: Record<string, any> }>;
      }>();
      const machines = Object.values(template.Resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
      expect(machines).toHaveLength(1);
      const deployed = JSON.parse(machines[0]!.Properties.DefinitionString['Fn::Sub'][0]) as Record<string, unknown>;
      const withFunctions = JSON.parse(JSON.stringify(deployed), (key, value) => (key === 'Resource' ? { 'Fn::GetAtt': [value, 'Arn'] } : value)) as Record<
        string,
        unknown
      >;
      expect(taskStates(withFunctions).map((t) => t.name)).toEqual(taskStates(loadDefinition()).map((t) => t.name));
      const table = Object.values(template.Resources).find((r) => r.Type === 'AWS::DynamoDB::Table')!;
      expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      // Kept on stack deletion and replacement, but not left behind by a failed first create.
      expect([table.DeletionPolicy, table.UpdateReplacePolicy]).toEqual(['RetainExceptOnCreate', 'Retain']);
      const fns = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
      for (const fn of fns) expect(fn.Properties.Runtime).toBe('nodejs24.x');
    }
  }, 300_000);
});

function byKey(a: { method: string; path: string }, b: { method: string; path: string }) {
  return `${a.method} ${a.path}`.localeCompare(`${b.method} ${b.path}`);
}
