/**
 * JSON text of large documents as step generators (lib/steps.ts): the same text as
 * `JSON.stringify` and `canonicalJson` (lib/json.ts), emitted in pieces with a yield point after
 * every `chunk` elements of a large array, so a server can serialise and hash a 5 MiB config
 * (25,000 rules) without blocking its event loop for the whole document.
 *
 * Only plain arrays and plain objects are walked here; every other value (strings, numbers,
 * values with `toJSON`, …) is handed whole to JSON.stringify / canonicalJson, so the output is
 * byte-identical to theirs (a property test checks it).
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './json.js';

/** Array elements serialised between two yield points. */
const CHUNK = 256;

type Emit = (piece: string) => void;

const isPlainContainer = (v: unknown): v is object => v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON !== 'function';

/** What JSON.stringify drops from an object (and writes as null in an array). */
const unserialisable = (v: unknown): boolean => v === undefined || typeof v === 'function' || typeof v === 'symbol';

/** A leaf's text; '' when it is dropped (undefined, a function, a `toJSON` giving undefined). */
const leaf = (v: unknown, canonical: boolean): string => (canonical ? canonicalJson(v) : (JSON.stringify(v) ?? ''));

function* write(value: unknown, emit: Emit, canonical: boolean, chunk: number, stack: Set<object>): Generator<void, void, void> {
  if (!isPlainContainer(value)) {
    emit(leaf(value, canonical));
    return;
  }
  if (stack.has(value)) throw new TypeError('Cannot serialize a circular structure to JSON');
  stack.add(value);
  if (Array.isArray(value)) {
    emit('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) emit(',');
      const v: unknown = value[i];
      if (isPlainContainer(v)) yield* write(v, emit, canonical, chunk, stack);
      else emit(unserialisable(v) ? 'null' : leaf(v, canonical) || 'null');
      if (i % chunk === chunk - 1) yield;
    }
    emit(']');
  } else {
    const rec = value as Record<string, unknown>;
    const keys = canonical ? Object.keys(rec).sort() : Object.keys(rec);
    emit('{');
    let first = true;
    for (const key of keys) {
      const v = rec[key];
      if (unserialisable(v)) continue;
      if (isPlainContainer(v)) {
        emit(`${first ? '' : ','}${JSON.stringify(key)}:`);
        yield* write(v, emit, canonical, chunk, stack);
      } else {
        const text = leaf(v, canonical);
        if (text === '') continue;
        emit(`${first ? '' : ','}${JSON.stringify(key)}:${text}`);
      }
      first = false;
    }
    emit('}');
  }
  stack.delete(value);
}

export interface SlicedJson {
  /** The JSON text (as JSON.stringify / canonicalJson give it). */
  text: string;
  /** Lowercase hex sha256 of its UTF-8 bytes, computed piece by piece ('' with `hash: false`). */
  sha256: string;
}

/**
 * `JSON.stringify(value)` (`canonical: false`) or `canonicalJson(value)` (`canonical: true`),
 * with its sha256, as a step generator that yields after every `chunk` array elements.
 */
export function* jsonSteps(value: unknown, options: { canonical: boolean; chunk?: number; hash?: boolean }): Generator<void, SlicedJson, void> {
  const parts: string[] = [];
  const hash = options.hash === false ? null : createHash('sha256');
  let pending: string[] = [];
  let pendingLength = 0;
  const flush = () => {
    if (pending.length === 0) return;
    const piece = pending.join('');
    parts.push(piece);
    hash?.update(piece);
    pending = [];
    pendingLength = 0;
  };
  const emit: Emit = (piece) => {
    pending.push(piece);
    pendingLength += piece.length;
    if (pendingLength >= 64 * 1024) flush();
  };
  yield* write(value, emit, options.canonical, Math.max(1, options.chunk ?? CHUNK), new Set());
  flush();
  yield;
  const text = parts.join('');
  return { text, sha256: hash ? hash.digest('hex') : '' };
}
