/**
 * The state machine's Retry/Catch match errors by name: every name in any `ErrorEquals` of
 * workflow/provisioning.asl.yml must be one the code can throw (a member of the error vocabulary
 * of lib/target-errors.ts) or a Step Functions built-in. Walks the whole definition, so it keeps
 * holding however the states are nested (Map ItemProcessor/Iterator, Parallel Branches, …).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DependencyUnavailableError } from '../../lib/errors.js';
import { PlanError } from '../../lib/provisioning/errors.js';
import {
  RETRYABLE_ERRORS,
  TARGET_ERRORS,
  TargetError,
  WORKFLOW_ERRORS,
  caughtIs,
  isTargetError,
  isWorkflowErrorName,
  notOwned,
  throttled,
  type TargetErrorName,
} from '../../lib/target-errors.js';

const ASL = fileURLToPath(new URL('../../workflow/provisioning.asl.yml', import.meta.url));
const BUILT_IN = /^(States|Lambda)\.[A-Za-z]+$/;

interface Matcher {
  /** Where in the definition, e.g. `States.ProvisionItems.ItemProcessor.States.EnsureRole.Retry[0]`. */
  at: string;
  kind: 'Retry' | 'Catch';
  names: string[];
}

/** Every Retry/Catch entry with its ErrorEquals, anywhere in the definition. */
function matchers(node: unknown, at = ''): Matcher[] {
  if (Array.isArray(node)) return node.flatMap((v, i) => matchers(v, `${at}[${i}]`));
  if (node === null || typeof node !== 'object') return [];
  const out: Matcher[] = [];
  for (const [key, value] of Object.entries(node)) {
    const here = at ? `${at}.${key}` : key;
    if ((key === 'Retry' || key === 'Catch') && Array.isArray(value)) {
      value.forEach((entry: { ErrorEquals?: unknown }, i) => {
        expect(Array.isArray(entry.ErrorEquals), `${here}[${i}].ErrorEquals`).toBe(true);
        out.push({ at: `${here}[${i}]`, kind: key, names: (entry.ErrorEquals as unknown[]).map(String) });
      });
    }
    out.push(...matchers(value, here));
  }
  return out;
}

describe('ErrorEquals of the state machine', () => {
  const definition: unknown = parse(readFileSync(ASL, 'utf8'), { maxAliasCount: -1 });
  const all = matchers(definition);

  it('finds the Retry and Catch entries, nested states included', () => {
    expect(all.some((m) => m.kind === 'Retry')).toBe(true);
    expect(all.some((m) => m.kind === 'Catch')).toBe(true);
    // At least one inside a nested state machine (the per-identity Map).
    expect(all.some((m) => /\.(ItemProcessor|Iterator|Branches)\b/.test(m.at))).toBe(true);
  });

  it('names only errors of the vocabulary or Step Functions built-ins', () => {
    const unknown = all.flatMap((m) => m.names.filter((n) => !BUILT_IN.test(n) && !isWorkflowErrorName(n)).map((n) => `${m.at}: ${n}`));
    expect(unknown).toEqual([]);
  });

  it('retries only names the vocabulary marks retryable', () => {
    const wrong = all
      .filter((m) => m.kind === 'Retry')
      .flatMap((m) => m.names.filter((n) => isWorkflowErrorName(n) && !WORKFLOW_ERRORS[n].retryable).map((n) => `${m.at}: ${n}`));
    expect(wrong).toEqual([]);
  });
});

describe('the error vocabulary', () => {
  it('derives the retryable names from the table', () => {
    expect([...RETRYABLE_ERRORS].sort()).toEqual(
      ['ConflictError', 'DependencyUnavailableError', 'NotFoundError', 'NotReadyError', 'ThrottledError', 'TransientError'].sort(),
    );
    for (const name of Object.keys(TARGET_ERRORS) as TargetErrorName[]) {
      const e = new TargetError(name, 'm');
      expect({ name: e.name, retryable: e.retryable }).toEqual({ name, retryable: RETRYABLE_ERRORS.includes(name) });
    }
  });

  it('names the classes of lib/ that a step may throw besides TargetErrors', () => {
    expect(isWorkflowErrorName(new DependencyUnavailableError('DynamoDB').name)).toBe(true);
    expect(isWorkflowErrorName(new PlanError('x').name)).toBe(true);
    expect(isWorkflowErrorName('ThrottlingException')).toBe(false);
    expect(isWorkflowErrorName('toString')).toBe(false);
  });

  it('isTargetError narrows by name; caughtIs reads a Catch output', () => {
    const e: unknown = throttled('slow down', new Error('sdk'));
    expect(isTargetError(e)).toBe(true);
    expect(isTargetError(e, 'ThrottledError', 'TransientError')).toBe(true);
    expect(isTargetError(e, 'AlreadyExistsError')).toBe(false);
    expect(isTargetError(Object.assign(new Error('x'), { name: 'ThrottledError' }), 'ThrottledError')).toBe(false);
    expect((e as TargetError).cause).toBeInstanceOf(Error);
    expect(caughtIs({ Error: 'SupersededError' }, 'SupersededError')).toBe(true);
    expect(caughtIs({ Error: 'States.Timeout' }, 'SupersededError')).toBe(false);
  });

  it('a NotOwnedError carries the resource it left alone as a field', () => {
    const e = notOwned({ kind: 'instance-profile', name: 'p1' }, 'IAM instance profile p1 exists without …');
    expect(e).toMatchObject({ name: 'NotOwnedError', retryable: false, resource: { kind: 'instance-profile', name: 'p1' } });
  });
});
