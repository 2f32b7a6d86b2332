/** Sample launches for the plan route: one launch per selector where one can be built, resolved by two versions. */
import { describe, expect, it } from 'vitest';
import { compileConfig } from '../../lib/resolution/compile.js';
import { changedLaunches, sampleLaunch, sampleSources } from '../../lib/resolution/samples.js';
import { parseSelector } from '../../lib/selector/index.js';

const config = (rules: Array<[string, string]>, fallback: 'CLOUD_DEFAULT' | 'FAIL' = 'CLOUD_DEFAULT', version = 1) =>
  compileConfig(
    { cloud_deployment_id: 'c', dataplane_iam_mapping: { rules: rules.map(([selector, value]) => ({ selector, value })), fallback_rule: fallback } },
    { version, etag: `${version}` },
  );

describe('sampleLaunch', () => {
  it('builds a launch each selector matches, from its own values', () => {
    for (const text of [
      'workload-type in (workspace),user=user1@example.com',
      'workload-type notin (job),project!=sample-project',
      'project in (a, b),user',
      'workload-type==service',
      '',
      'user notin (sample-user@example.com)',
    ]) {
      const selector = parseSelector(text);
      const launch = sampleLaunch(selector);
      expect(launch, text).not.toBeNull();
      expect(selector.matches({ 'workload-type': launch!.workload_type, project: launch!.project, user: launch!.user }), text).toBe(true);
    }
    expect(sampleLaunch(parseSelector('workload-type in (workspace),user=user1@example.com'))).toEqual({
      workload_type: 'workspace',
      project: 'sample-project',
      user: 'user1@example.com',
    });
    expect(sampleLaunch(parseSelector('project gt 5'))?.project).toBe('6');
  });

  it('null when no launch can match: an absent label, a workload type that does not exist, another label key', () => {
    for (const text of ['!user', 'workload-type=batch', 'team=ml', 'project in (a),project notin (a)'])
      expect(sampleLaunch(parseSelector(text)), text).toBeNull();
  });
});

describe('changedLaunches', () => {
  it('lists only launches whose identity changes, with where they came from; pins compare their kept answer', () => {
    const current = config([
      ['workload-type in (workspace),user=user1@example.com', 'sa1'],
      ['workload-type in (job, service),user=user2@example.com', 'sa2'],
    ]);
    const draftRules: Array<[string, string]> = [
      ['workload-type in (workspace),user=user1@example.com', 'sa1'],
      ['workload-type in (job),user=user2@example.com', 'sa9'],
    ];
    const draft = config(draftRules, 'FAIL', 2);
    const pins = [
      {
        clusterId: 'ses_1',
        launch: { workload_type: 'service', project: 'p', user: 'user2@example.com' },
        outcome: { value: 'sa2', source: 'RULE' as const, rule_index: 1 },
      },
    ];
    const sources = sampleSources({ selectors: draft.rules.map((r) => r.selector) }, { version: 1, selectors: current.rules.map((r) => r.selector) }, pins);
    expect(sources.map((s) => s.derived_from)).toEqual(['rule 0 of the draft', 'rule 1 of the draft', 'pinned cluster ses_1']);
    expect(changedLaunches(sources, current, draft)).toEqual([
      {
        workload_type: 'job',
        project: 'sample-project',
        user: 'user2@example.com',
        from: 'sa2',
        to: 'sa9',
        from_source: 'RULE',
        to_source: 'RULE',
        from_rule: 1,
        to_rule: 1,
        derived_from: 'rule 1 of the draft',
      },
      {
        workload_type: 'service',
        project: 'p',
        user: 'user2@example.com',
        from: 'sa2',
        to: null,
        from_source: 'RULE',
        to_source: 'NO_MATCH',
        from_rule: 1,
        to_rule: null,
        derived_from: 'pinned cluster ses_1',
        cluster_id: 'ses_1',
      },
    ]);
    // Without a current version only the pins have a "now".
    expect(changedLaunches(sources, null, draft).map((l) => l.derived_from)).toEqual(['pinned cluster ses_1']);
  });
});
