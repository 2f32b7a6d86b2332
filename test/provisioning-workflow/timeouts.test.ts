/**
 * Timeouts of the deployed shape: every Task state waits at least as long as its Lambda may run
 * (otherwise a retry starts while the first call still runs), and the state machine as a whole
 * is bounded by the TimeoutSeconds that drift and the run-ended rule rely on.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { EXECUTION_TIMEOUT_SECONDS } from '../../lib/workflow/run-ended.js';
import { allStates, loadDefinition } from '../../local/workflow-runner.js';

const root = join(import.meta.dirname, '../..');
const sls = parseDocument(readFileSync(join(root, 'serverless.yml'), 'utf8'), { logLevel: 'silent' }).toJS({ maxAliasCount: -1 }) as {
  provider: { timeout?: number };
  functions: Record<string, { timeout?: number }>;
};

describe('timeouts', () => {
  const definition = loadDefinition();

  it("every Task's TimeoutSeconds is at least its Lambda's timeout", () => {
    const tasks = allStates(definition).filter((s) => s.state.Type === 'Task');
    expect(tasks.length).toBeGreaterThan(10);
    for (const { name, state } of tasks) {
      const fn = (state.Resource as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const lambdaTimeout = sls.functions[fn]?.timeout ?? sls.provider.timeout ?? 6;
      expect(state.TimeoutSeconds, `${name} (${fn}, Lambda timeout ${lambdaTimeout} s)`).toBeGreaterThanOrEqual(lambdaTimeout);
    }
  });

  it('the state machine has a TimeoutSeconds, the one drift and the run-ended rule assume', () => {
    expect(definition.TimeoutSeconds).toBe(EXECUTION_TIMEOUT_SECONDS);
  });

  it('every Map: Inline ones at most 40 at once, the Distributed one a STANDARD child per page', () => {
    const maps = allStates(definition).filter((s) => s.state.Type === 'Map');
    const modes = maps.map((m) => ((m.state.ItemProcessor as Record<string, any>).ProcessorConfig ?? {}).Mode);
    expect(modes.sort()).toEqual(['DISTRIBUTED', 'INLINE']);
    for (const m of maps) {
      const config = (m.state.ItemProcessor as Record<string, any>).ProcessorConfig;
      if (config.Mode === 'INLINE') expect(m.state.MaxConcurrency as number).toBeLessThanOrEqual(40);
      else expect(config.ExecutionType).toBe('STANDARD');
    }
  });
});
