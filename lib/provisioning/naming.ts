import { sha256Hex } from '../json.js';

/**
 * Deterministic IAM role names: `<prefix><cloud>-<value>`, at most 64 characters.
 *
 * - `<cloud>` is the cloud id itself when it is short lowercase `[a-z0-9_]` with at least one `_`
 *   (`cldrsrc_abc123`), otherwise `c.` + 8 hex of its sha256. It never contains `-` and always
 *   contains `_` or `.`, so the first `-` after the prefix ends it: names of different clouds
 *   (same prefix) never coincide.
 * - Across prefixes too: a prefix (validated at PUT, `rolePrefixProblem`) is empty or ends with
 *   `-` and contains neither `_` nor `.`. The first `_`/`.` of a name is then inside `<cloud>`,
 *   the last `-` before it ends the prefix, so (prefix, cloud) are read back from any name: cloud
 *   `pb` with prefix `iam-mapping-pa-` can no longer produce cloud `pa`'s names.
 * - `<value>` is the SA / instance-profile name itself when it is lowercase `[a-z0-9.-]` and the
 *   whole name fits ("readable"); otherwise `<stem>_<8 hex>` where the hash covers
 *   (prefix, cloud id, value) and the stem is a lowercased, truncated copy for humans. Readable
 *   values never contain `_`, hashed ones always do: the two forms are disjoint.
 *
 * IAM compares role names case-insensitively; every variable part is lowercase, so two different
 * values (even `Foo` and `foo`) get names that differ ignoring case — except for a 32-bit hash
 * collision between two hashed names, which buildPlan detects and reports.
 */
export const ROLE_NAME_MAX = 64;
export const ROLE_NAME_PREFIX_MAX = 24;
const CLOUD_READABLE = /^(?=[a-z0-9]*_)[a-z0-9_]{1,20}$/;
/** Prefixes that keep names unambiguous across clouds (see above). */
const PREFIX_UNAMBIGUOUS = /^(?:[A-Za-z0-9+=,@-]*-)?$/;

/** Why a role_name_prefix would make names ambiguous across clouds, or null. */
export function rolePrefixProblem(prefix: string): string | null {
  if (PREFIX_UNAMBIGUOUS.test(prefix)) return null;
  return `${JSON.stringify(prefix)} must be empty or end with "-" and contain no "_" or "." (those mark where the cloud part of a role name starts, so one cloud's prefix cannot produce another cloud's role names)`;
}
const VALUE_READABLE = /^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$/;
const HASH_HEX = 8;
/** Characters IAM allows in a role name. */
export const IAM_NAME_CHARS = /^[\w+=,.@-]+$/;

export function cloudNamePart(cloudId: string): string {
  return CLOUD_READABLE.test(cloudId) ? cloudId : `c.${sha256Hex(cloudId).slice(0, HASH_HEX)}`;
}

export function roleNameFor(prefix: string, cloudId: string, value: string): string {
  if (prefix.length > ROLE_NAME_PREFIX_MAX || (prefix !== '' && !IAM_NAME_CHARS.test(prefix))) {
    throw new RangeError(`role name prefix must be at most ${ROLE_NAME_PREFIX_MAX} characters of [A-Za-z0-9+=,.@_-]`);
  }
  const head = `${prefix}${cloudNamePart(cloudId)}-`;
  if (VALUE_READABLE.test(value) && head.length + value.length <= ROLE_NAME_MAX) return head + value;
  const hash = sha256Hex(JSON.stringify([prefix, cloudId, value])).slice(0, HASH_HEX);
  const room = ROLE_NAME_MAX - head.length - 1 - HASH_HEX;
  const stem = value
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '-')
    .slice(0, room)
    .replace(/[.-]+$/, '');
  return `${head}${stem}_${hash}`;
}
