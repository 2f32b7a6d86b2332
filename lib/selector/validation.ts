/**
 * Pure helpers: Kubernetes qualified-name (label key) validation, Go-compatible int64 parsing and
 * Go-compatible (UTF-8 byte order) string comparison.
 */

const NAME_MAX = 63;
const PREFIX_MAX = 253;

const NAME_FORMAT =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName', 'my.name' or '123-abc')";
const SUBDOMAIN_FORMAT =
  "must be a lowercase RFC 1123 subdomain: lower case alphanumeric characters, '-' or '.', each part starting and ending with an alphanumeric character (e.g. 'example.com')";

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isLowerAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a);
}

/** `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]` */
function matchesName(s: string): boolean {
  const n = s.length;
  if (n === 0 || !isAlnum(s.charCodeAt(0)) || !isAlnum(s.charCodeAt(n - 1))) return false;
  for (let i = 1; i < n - 1; i++) {
    const c = s.charCodeAt(i);
    if (!(isAlnum(c) || c === 0x2d || c === 0x5f || c === 0x2e)) return false;
  }
  return true;
}

/** `[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*` */
function matchesSubdomain(s: string): boolean {
  let start = 0;
  const n = s.length;
  for (;;) {
    let end = s.indexOf('.', start);
    if (end < 0) end = n;
    if (end === start) return false;
    if (!isLowerAlnum(s.charCodeAt(start)) || !isLowerAlnum(s.charCodeAt(end - 1))) return false;
    for (let i = start + 1; i < end - 1; i++) {
      const c = s.charCodeAt(i);
      if (!(isLowerAlnum(c) || c === 0x2d)) return false;
    }
    if (end === n) return true;
    start = end + 1;
  }
}

/**
 * Validates a label key as a Kubernetes qualified name (`validation.IsQualifiedName`): an optional
 * DNS-1123 subdomain prefix (at most 253 characters) and `/`, then a name of at most 63 characters
 * matching `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`.
 *
 * @returns null when valid, otherwise the problems joined with "; " (as Kubernetes does).
 */
export function isValidLabelKey(key: string): string | null {
  if (typeof key !== 'string') return 'label key must be a string';
  const errs: string[] = [];
  const slash = key.indexOf('/');
  let name = key;
  if (slash >= 0) {
    if (key.indexOf('/', slash + 1) >= 0) {
      return `a qualified name ${NAME_FORMAT}, with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`;
    }
    const prefix = key.slice(0, slash);
    name = key.slice(slash + 1);
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else {
      if (prefix.length > PREFIX_MAX) errs.push(`prefix part must be no more than ${PREFIX_MAX} characters`);
      if (!matchesSubdomain(prefix)) errs.push(`prefix part ${SUBDOMAIN_FORMAT}`);
    }
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > NAME_MAX) errs.push(`name part must be no more than ${NAME_MAX} characters`);
  if (!matchesName(name)) errs.push(`name part ${NAME_FORMAT}`);
  return errs.length === 0 ? null : errs.join('; ');
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Parses like Go's `strconv.ParseInt(s, 10, 64)`: optional `+`/`-`, one or more ASCII digits, no
 * underscores, value within int64. Returns a number when it is exactly representable (at most 15
 * digits), a bigint otherwise, or undefined when invalid. JS compares number and bigint exactly.
 */
export function parseInt64(s: string): number | bigint | undefined {
  const n = s.length;
  let i = 0;
  let neg = false;
  if (n > 0) {
    const c0 = s.charCodeAt(0);
    if (c0 === 0x2b || c0 === 0x2d) {
      neg = c0 === 0x2d;
      i = 1;
    }
  }
  if (i >= n) return undefined;
  let acc = 0;
  for (let j = i; j < n; j++) {
    const d = s.charCodeAt(j) - 0x30;
    if (d < 0 || d > 9) return undefined;
    acc = acc * 10 + d;
  }
  if (n - i <= 15) return neg ? (acc === 0 ? 0 : -acc) : acc;
  const big = BigInt(s.charCodeAt(0) === 0x2b ? s.slice(1) : s);
  if (big < INT64_MIN || big > INT64_MAX) return undefined;
  return big;
}

/**
 * Compares strings in UTF-8 byte order (Go's string order), which differs from JS `<` only when
 * a surrogate pair meets a BMP character in U+E000..U+FFFF.
 */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // Surrogates (astral code points) sort after U+E000..U+FFFF in UTF-8.
      if (x <= 0xdfff) x += 0x10000;
      if (y <= 0xdfff) y += 0x10000;
    }
    return x < y ? -1 : 1;
  }
  return a.length - b.length < 0 ? -1 : a.length === b.length ? 0 : 1;
}
