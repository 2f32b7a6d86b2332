/**
 * Google IAM policy edits the way Google intends (read-modify-write guarded by the policy's etag):
 * pure functions over a policy that add or remove single members of one role's unconditional
 * binding and leave every other binding, member, condition and the etag as read. The caller
 * writes the result with the etag it read, and re-reads and re-applies on a conflict
 * (IAM 409 ABORTED, Storage 412).
 */
import type { GoogleIamBinding, GoogleIamPolicy } from '../ports.js';

/** Members of `role`'s unconditional binding(s). */
export function membersOf(policy: GoogleIamPolicy | null, role: string): string[] {
  if (!policy) return [];
  return [...new Set(policy.bindings.filter((b) => b.role === role && b.condition === undefined).flatMap((b) => b.members))];
}

/** Members of `role` in any binding, conditional ones included (what can act with the role). */
export function anyMembersOf(policy: GoogleIamPolicy | null, role: string): string[] {
  if (!policy) return [];
  return [...new Set(policy.bindings.filter((b) => b.role === role).flatMap((b) => b.members))];
}

/** `policy` with `add` members added to and `remove` members removed from `role`'s unconditional binding; null when nothing changes. */
export function editMembers(policy: GoogleIamPolicy, role: string, change: { add?: readonly string[]; remove?: readonly string[] }): GoogleIamPolicy | null {
  const add = (change.add ?? []).filter((m) => !membersOf(policy, role).includes(m));
  const remove = new Set((change.remove ?? []).filter((m) => membersOf(policy, role).includes(m)));
  if (add.length === 0 && remove.size === 0) return null;
  const bindings: GoogleIamBinding[] = [];
  let placed = false;
  for (const b of policy.bindings) {
    if (b.role !== role || b.condition !== undefined) {
      bindings.push(b);
      continue;
    }
    const members = b.members.filter((m) => !remove.has(m));
    if (!placed) {
      members.push(...add);
      placed = true;
    }
    if (members.length > 0) bindings.push({ ...b, members });
  }
  if (!placed && add.length > 0) bindings.push({ role, members: [...add] });
  const conditional = bindings.some((b) => b.condition !== undefined);
  return { ...policy, ...(conditional ? { version: 3 } : {}), bindings };
}
