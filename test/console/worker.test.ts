/**
 * The console's validation worker runs the server's own parse + validation + lint: for the same
 * text it reports what a PUT answers (every problem, same path, message, line and column), and
 * the lint warnings located at their rule's selector.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateText } from '../../console/worker/validate.js';
import { startHarness, type Harness } from '../helpers/local.js';
import { SEED_EXAMPLES } from '../helpers/seeds.js';

const CLOUD = 'cldrsrc_XXXX';

describe('console validation worker', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('reports what the server reports for the same text', async () => {
    const bad = SEED_EXAMPLES.eks.replace('user=user2@example.com', 'usr=user2@example.com').replace('fallback_rule: CLOUD_DEFAULT', 'fallback_rule: DEFAULT');
    const res = await h.api('PUT', `/v1/clouds/${CLOUD}/iam-mapping`, { body: bad });
    expect(res.status).toBe(400);
    const server = (res.json.error.details as Array<Record<string, unknown>>).map((d) => ({
      path: d.path,
      message: d.message,
      line: d.line,
      column: d.column,
    }));
    const reply = validateText({ id: 1, text: bad, cloudId: CLOUD });
    expect(reply.id).toBe(1);
    expect(reply.problems.every((p) => p.severity === 'error')).toBe(true);
    expect(reply.problems.map((p) => ({ path: p.path, message: p.message, line: p.line, column: p.column }))).toEqual(server);
    expect(server).toHaveLength(2);
    const selector = reply.problems.find((p) => p.path === 'dataplane_iam_mapping.rules[1].selector');
    expect(selector).toMatchObject({ line: 8, rule_index: 1, position: 32 });
  });

  it('syntax errors at their line, lint warnings at their rule, nothing for an empty editor', () => {
    const syntax = validateText({ id: 2, text: 'cloud_provider: AWS\n  bad: [\n' });
    expect(syntax.problems).toHaveLength(1);
    expect(syntax.problems[0]).toMatchObject({ severity: 'error', line: expect.any(Number), column: expect.any(Number) });
    const duplicate = SEED_EXAMPLES.eks.replace(
      '  fallback_rule: CLOUD_DEFAULT',
      '    - selector: workload-type in (workspace),user=user1@example.com\n      value: kubernetes-service-account-name1\n  fallback_rule: CLOUD_DEFAULT',
    );
    const lint = validateText({ id: 3, text: duplicate, cloudId: CLOUD });
    expect(lint.rules).toBe(3);
    const warning = lint.problems.find((p) => p.code === 'DUPLICATE_RULE');
    expect(warning).toMatchObject({ severity: 'warning', rule_index: 2, line: 10 });
    expect(validateText({ id: 4, text: '  \n' }).problems).toEqual([]);
  });
});
