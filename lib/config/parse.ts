/**
 * Request body → plain document. JSON or YAML by Content-Type (sniffed when absent). YAML is read
 * with unique keys, the core schema and a bounded alias count (no alias bombs); every syntax error
 * becomes a 400 INVALID_CONFIG naming line and column. Positions of YAML nodes are kept so schema
 * errors can point at their line too.
 */
import { LineCounter, isScalar, parseDocument, visit, type Document } from 'yaml';
import { AppError } from '../errors.js';
import { reindentFlatConfig } from './flat.js';

export type BodyFormat = 'json' | 'yaml';
export type Path = ReadonlyArray<string | number>;

export interface ParsedBody {
  document: unknown;
  format: BodyFormat;
  /** 1-based line/column of the node at `path` (or its nearest existing parent), YAML only. */
  locate: (path: Path) => { line: number; column: number } | undefined;
  notes: string[];
}

const JSON_TYPES = /^application\/(?:[\w.+-]+\+)?json$/;
const YAML_TYPES = new Set(['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml', 'application/vnd.yaml']);
const SNIFF_TYPES = new Set(['', 'text/plain', 'application/octet-stream']);
export const MAX_ALIAS_COUNT = 50;

export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

export function bodyFormat(contentType: string | undefined, body: string): BodyFormat {
  const type = mediaType(contentType);
  if (JSON_TYPES.test(type)) return 'json';
  if (YAML_TYPES.has(type)) return 'yaml';
  if (SNIFF_TYPES.has(type)) return /^\s*[[{]/.test(body) ? 'json' : 'yaml';
  throw new AppError('UNSUPPORTED_MEDIA_TYPE', `Content-Type ${type} is not supported; send application/json or application/yaml`, [
    { path: 'Content-Type', message: `unsupported media type ${type}` },
  ]);
}

/**
 * `duplicateKeys: 'later'`: the caller runs `refuseDuplicateKeys` itself (a server gives a large
 * body's key scan a turn of the event loop of its own, apart from JSON.parse).
 */
export function parseConfigBody(body: string, contentType: string | undefined, options: { duplicateKeys?: 'now' | 'later' } = {}): ParsedBody {
  const format = bodyFormat(contentType, body);
  if (body.trim() === '') {
    throw syntaxError('request body is empty: send the mapping config as JSON or YAML');
  }
  return format === 'json' ? parseJson(body, options.duplicateKeys !== 'later') : parseYaml(body);
}

function parseJson(body: string, checkKeys: boolean): ParsedBody {
  let document: unknown;
  try {
    document = JSON.parse(body);
  } catch (e) {
    const message = e instanceof RangeError ? 'JSON is nested too deeply' : (e as Error).message;
    throw syntaxError(`invalid JSON: ${message}`);
  }
  if (checkKeys) refuseDuplicateKeys(body);
  return { document, format: 'json', locate: () => undefined, notes: [] };
}

/**
 * JSON.parse keeps the last of two equal keys; YAML refuses them. A config read two ways (a
 * reviewer's tool shows the first, the service would store the last) is refused for JSON too.
 */
export function refuseDuplicateKeys(json: string): void {
  const dup = duplicateKey(json);
  if (!dup) return;
  const message = `invalid JSON: duplicate key ${JSON.stringify(dup.key)}${dup.path ? ` in ${dup.path}` : ''} (line ${dup.line}, column ${dup.column}): keys must be unique`;
  throw new AppError('INVALID_CONFIG', message, [{ path: dup.path ? `${dup.path}.${dup.key}` : dup.key, message, line: dup.line, column: dup.column }]);
}

/**
 * The first key that repeats within one object of `text` (valid JSON: JSON.parse accepted it), with
 * the object's path and the repeat's position; null when every object's keys are unique. One pass.
 */
export function duplicateKey(text: string): { key: string; path: string; line: number; column: number } | null {
  type Frame = { keys: Set<string> | null; key: string | number };
  const stack: Frame[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */) {
      stack.push({ keys: new Set(), key: '' });
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push({ keys: null, key: 0 });
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1]!;
      if (top.keys) expectKey = true;
      else top.key = (top.key as number) + 1;
    } else if (c === 0x22 /* " */) {
      let end = i + 1;
      for (;;) {
        end = text.indexOf('"', end);
        let backslashes = 0;
        while (text.charCodeAt(end - 1 - backslashes) === 0x5c) backslashes++;
        if (backslashes % 2 === 0) break;
        end++;
      }
      if (expectKey) {
        const raw = text.slice(i + 1, end);
        const key = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
        const top = stack[stack.length - 1]!;
        if (top.keys!.has(key)) {
          const before = text.slice(0, i);
          const line = before.split('\n').length;
          const path = stack
            .slice(0, -1)
            .map((f) => (f.keys ? `.${String(f.key)}` : `[${String(f.key)}]`))
            .join('')
            .replace(/^\./, '');
          return { key, path, line, column: i - before.lastIndexOf('\n') };
        }
        top.keys!.add(key);
        top.key = key;
        expectKey = false;
      }
      i = end;
    }
  }
  return null;
}

function parseYaml(body: string): ParsedBody {
  const first = readYaml(body);
  if (first.errorDetail === undefined) return first.parsed;
  // A documentation paste that lost its indentation is re-read once, by key (see flat.ts).
  const reindented = reindentFlatConfig(body);
  if (reindented !== null) {
    const second = readYaml(reindented);
    if (second.errorDetail === undefined) {
      second.parsed.notes.push('the YAML had no indentation (as pasted from a web page); it was read by its known keys');
      return second.parsed;
    }
  }
  throw new AppError('INVALID_CONFIG', `invalid YAML: ${first.errorDetail.message}`, [first.errorDetail]);
}

function readYaml(
  body: string,
): { parsed: ParsedBody; errorDetail?: undefined } | { errorDetail: { path: string; message: string; line?: number; column?: number } } {
  const lineCounter = new LineCounter();
  let doc: Document.Parsed;
  try {
    // Duplicate keys are found below in linear time: the library's `uniqueKeys` compares every
    // pair of keys of a map, so a 1 MB map of distinct keys would cost minutes of CPU.
    doc = parseDocument(body, { lineCounter, uniqueKeys: false, strict: true, prettyErrors: true, schema: 'core', merge: false });
  } catch (e) {
    return { errorDetail: { path: '', message: errorMessage(e) } };
  }
  const error = doc.errors[0];
  if (error) {
    const pos = error.linePos?.[0];
    return {
      errorDetail: {
        path: '',
        // prettyErrors already ends the first line with " at line L, column C:"; say it once.
        message: pos
          ? `${firstLine(error.message).replace(/ at line \d+, column \d+:?$/, '')} (line ${pos.line}, column ${pos.col})`
          : firstLine(error.message),
        ...(pos ? { line: pos.line, column: pos.col } : {}),
      },
    };
  }
  let duplicate: number | undefined;
  try {
    duplicate = duplicateKeyOffset(doc);
  } catch (e) {
    return { errorDetail: { path: '', message: errorMessage(e) } };
  }
  if (duplicate !== undefined) {
    const { line, col } = lineCounter.linePos(duplicate);
    return { errorDetail: { path: '', message: `Map keys must be unique (line ${line}, column ${col})`, line, column: col } };
  }
  let document: unknown;
  try {
    document = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    return { errorDetail: { path: '', message: errorMessage(e) } };
  }
  const locate = (path: Path) => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node && Array.isArray(node.range)) {
        const { line, col } = lineCounter.linePos(node.range[0]);
        return { line, column: col };
      }
    }
    return undefined;
  };
  return { parsed: { document, format: 'yaml', locate, notes: [] } };
}

/** Offset of the first key that repeats an earlier scalar key of the same map (what `uniqueKeys` reports), in linear time. */
function duplicateKeyOffset(doc: Document.Parsed): number | undefined {
  let offset: number | undefined;
  visit(doc, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const { key } of map.items) {
        if (key !== null && !isScalar(key)) continue; // collections and aliases: never equal (as in the library)
        const value = key === null ? null : key.value;
        if (seen.has(value)) {
          offset = (isScalar(key) ? key.range?.[0] : undefined) ?? map.range?.[0] ?? 0;
          return visit.BREAK;
        }
        seen.add(value);
      }
      return undefined;
    },
  });
  return offset;
}

function syntaxError(message: string): AppError {
  return new AppError('INVALID_CONFIG', message, [{ path: '', message }]);
}

function errorMessage(e: unknown): string {
  if (e instanceof RangeError) return 'document is nested too deeply';
  const message = e instanceof Error ? e.message : String(e);
  if (/alias/i.test(message)) return `too many YAML aliases (more than ${MAX_ALIAS_COUNT}): ${firstLine(message)}`;
  return firstLine(message);
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.trim();
}

/**
 * GET answers the stored document plus its `version`; a PUT (or plan) of that answer, edited or
 * not, is accepted: the version is the service's to assign, so it is dropped, never stored
 * (If-Match with the GET's ETag is the precondition). Anything but a version number there is a problem.
 */
export function withoutVersion(document: unknown): { document: unknown; problem?: string } {
  if (typeof document !== 'object' || document === null || Array.isArray(document) || !Object.hasOwn(document, 'version')) return { document };
  const { version, ...rest } = document as Record<string, unknown>;
  if (Number.isSafeInteger(version) && (version as number) >= 1) return { document: rest };
  return {
    document: rest,
    problem: `version is assigned by the service (a GET shows it): leave it out, or keep the number a GET returned; got ${JSON.stringify(version) ?? String(version)}`,
  };
}

/** The problem `withoutVersion` found, as a detail at the field (first: it is the top of the document). */
export function versionDetail(
  problem: string | undefined,
  locate: ParsedBody['locate'],
): Array<{ path: string; message: string; line?: number; column?: number }> {
  return problem ? [{ path: 'version', message: problem, ...locate(['version']) }] : [];
}
