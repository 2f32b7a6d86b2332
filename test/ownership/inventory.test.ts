/** Ownership = marks AND inventory: the verdicts, and the messages items fail with. */
import { describe, expect, it } from 'vitest';
import type { InventoryRecord } from '../../lib/ports.js';
import { INVENTORY_TOKEN_KEY, judgeOwnership, refusal, roleRef, resourceKey, serviceAccountRef } from '../../lib/provisioning/inventory.js';
import { CLOUD_LABEL, CLOUD_TAG, MANAGED_BY_LABEL, MANAGED_BY_TAG, MANAGER } from '../../lib/provisioning/ownership.js';

const A = 'cldrsrc_a';
const B = 'cldrsrc_b';
const tags = (cloud: string, extra: Record<string, string> = {}) => ({ [MANAGED_BY_TAG]: MANAGER, [CLOUD_TAG]: cloud, ...extra });
const role = (marks: Record<string, string>, id = 'AROA1') => ({ kind: 'iam-role' as const, marks, tokenSource: marks, id });
const rec = (cloudId: string, id: string | null, token?: string): InventoryRecord => ({
  ...roleRef('r'),
  cloudId,
  id,
  ...(token ? { token } : {}),
  recordedAt: '',
});

describe('judgeOwnership', () => {
  it('ours only when marks and inventory agree (same id)', () => {
    expect(judgeOwnership(role(tags(A)), rec(A, 'AROA1'), A)).toEqual({ kind: 'ours', finalize: false });
    expect(judgeOwnership(role(tags(A)), null, A)).toMatchObject({ kind: 'unverified', reason: expect.stringMatching(/no record of creating it/) });
    expect(judgeOwnership(role(tags(A), 'AROA2'), rec(A, 'AROA1'), A)).toMatchObject({
      kind: 'unverified',
      reason: expect.stringMatching(/re-created outside the service/),
    });
  });
  it('a create whose answer was lost is recognised by its token', () => {
    expect(judgeOwnership(role(tags(A, { [INVENTORY_TOKEN_KEY]: 't1' })), rec(A, null, 't1'), A)).toEqual({ kind: 'ours', finalize: true });
    expect(judgeOwnership(role(tags(A, { [INVENTORY_TOKEN_KEY]: 't2' })), rec(A, null, 't1'), A)).toMatchObject({ kind: 'unverified' });
  });
  it("another cloud's by its marks or by the inventory — also when its tags were stripped", () => {
    expect(judgeOwnership(role(tags(B)), null, A)).toEqual({ kind: 'other-cloud', owner: B, by: 'marks' });
    expect(judgeOwnership(role({}), rec(B, 'AROA1'), A)).toEqual({ kind: 'other-cloud', owner: B, by: 'inventory' });
    expect(judgeOwnership(role(tags(A)), rec(B, 'AROA1'), A)).toEqual({ kind: 'other-cloud', owner: B, by: 'inventory' });
    // A stale record of another cloud (a different resource of the same name) does not make it theirs.
    expect(judgeOwnership(role({}, 'AROA9'), rec(B, 'AROA1'), A)).toEqual({ kind: 'unmarked' });
  });
  it('no marks at all → unmarked (adoptable); partial marks → unverified, never adoptable', () => {
    expect(judgeOwnership(role({ team: 'ml' }), null, A)).toEqual({ kind: 'unmarked' });
    expect(judgeOwnership(role({ [MANAGED_BY_TAG]: MANAGER }), null, A)).toMatchObject({ kind: 'unverified' });
    expect(judgeOwnership(role({ [CLOUD_TAG]: A }), rec(A, 'AROA1'), A)).toMatchObject({ kind: 'unverified' });
  });
  it('ServiceAccounts: labels, uid and the token annotation', () => {
    const labels = { [MANAGED_BY_LABEL]: MANAGER, [CLOUD_LABEL]: A };
    const sa = { kind: 'service-account' as const, marks: labels, tokenSource: {}, id: 'uid-1' };
    const ref = serviceAccountRef({ name: 'c', issuerHost: 'i' }, 'ns', 'sa');
    expect(judgeOwnership(sa, { ...ref, cloudId: A, id: 'uid-1', recordedAt: '' }, A)).toEqual({ kind: 'ours', finalize: false });
    expect(judgeOwnership({ ...sa, marks: { ...labels, [CLOUD_LABEL]: B } }, null, A)).toMatchObject({ kind: 'other-cloud', owner: B });
  });
});

describe('refusal messages', () => {
  it("name the owning cloud and never suggest adopting another cloud's resource", () => {
    const m = refusal(roleRef('r'), { kind: 'other-cloud', owner: B, by: 'marks' }, 'beta', 'adopt_role');
    expect(m).toContain(`belongs to cloud ${B}`);
    expect(m).not.toContain('adopt_role');
    expect(refusal(roleRef('r'), { kind: 'unmarked' }, 'beta', 'adopt_role')).toContain('provisioning.service_accounts.beta.adopt_role: true');
  });
  it('resource keys ignore case for IAM names only', () => {
    expect(resourceKey(roleRef('Prof'))).toBe(resourceKey(roleRef('prof')));
    expect(resourceKey(serviceAccountRef({ name: 'c', issuerHost: 'i' }, 'ns', 'sa'))).toBe('service-account#i#ns#sa');
  });
});
