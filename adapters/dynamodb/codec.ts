/** Document body codec: canonical JSON → gzip → ≤ N-byte chunks, and the verified reverse. */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { StoredDataError } from '../../lib/stored.js';
import { keys } from './table.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export const sha256Hex = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

/**
 * JSON with object keys sorted (UTF-16 code unit order) at every depth, no whitespace.
 * Same value semantics as JSON.stringify (toJSON honoured, undefined/functions dropped from
 * objects and `null` in arrays, non-finite numbers → null). Built by hand because JS objects
 * always enumerate integer-like keys first, so "sort then JSON.stringify" is not canonical.
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  const stack = new Set<object>();
  const write = (v: unknown, inArray: boolean): boolean => {
    if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
      v = (v as { toJSON: () => unknown }).toJSON();
    }
    switch (typeof v) {
      case 'string':
        out.push(JSON.stringify(v));
        return true;
      case 'number':
        out.push(Number.isFinite(v) ? JSON.stringify(v) : 'null');
        return true;
      case 'boolean':
        out.push(v ? 'true' : 'false');
        return true;
      case 'bigint':
        throw new TypeError('Cannot serialize a BigInt to JSON');
      case 'undefined':
      case 'function':
      case 'symbol':
        if (inArray) out.push('null');
        return inArray;
    }
    if (v === null) {
      out.push('null');
      return true;
    }
    const obj = v as object;
    if (stack.has(obj)) throw new TypeError('Cannot serialize a circular structure to JSON');
    stack.add(obj);
    if (Array.isArray(obj)) {
      out.push('[');
      for (let i = 0; i < obj.length; i++) {
        if (i > 0) out.push(',');
        write(obj[i], true);
      }
      out.push(']');
    } else {
      out.push('{');
      let first = true;
      const rec = obj as Record<string, unknown>;
      for (const key of Object.keys(rec).sort()) {
        const mark = out.length;
        out.push(first ? '' : ',', JSON.stringify(key), ':');
        if (write(rec[key], false)) first = false;
        else out.length = mark; // value not serialisable in an object: drop the member
      }
      out.push('}');
    }
    stack.delete(obj);
    return true;
  };
  write(value, false);
  return out.join('');
}

export interface EncodedBody {
  /** sha256 hex of the canonical JSON (keys sorted): the document's identity. */
  contentHash: string;
  /** Byte length of the stored JSON (UTF-8), which keeps the document's own key order. */
  sizeBytes: number;
  /** sha256 hex of the gzip stream (chunks are content-addressed by this). */
  blobHash: string;
  blobBytes: number;
  chunks: Buffer[];
}

export async function encodeDocument(document: Record<string, unknown>, chunkSizeBytes: number): Promise<EncodedBody> {
  // Stored as given (key order as the admin wrote it); identified by its canonical form.
  const json = Buffer.from(JSON.stringify(document), 'utf8');
  const gz = await gzipAsync(json);
  const chunks: Buffer[] = [];
  for (let off = 0; off < gz.length; off += chunkSizeBytes) chunks.push(gz.subarray(off, off + chunkSizeBytes));
  return {
    contentHash: sha256Hex(canonicalJson(document)),
    sizeBytes: json.length,
    blobHash: sha256Hex(gz),
    blobBytes: gz.length,
    chunks,
  };
}

export interface BodyRef {
  cloudId: string;
  version: number;
  contentHash: string;
  sizeBytes: number;
  blobHash: string;
}

/** The body of a VERSION item does not decode to what the item says (its chunks are the `document`). */
export const corrupted = (ref: BodyRef, why: string): StoredDataError =>
  new StoredDataError(`${keys.cloudPk(ref.cloudId)} / ${keys.versionSk(ref.version)}`, 'document', `the config of cloud ${ref.cloudId} version ${ref.version}: ${why}`);

/** Reassembles, integrity-checks (blob hash, then content hash) and parses a stored document. */
export async function decodeDocument(ref: BodyRef, chunks: Uint8Array[]): Promise<Record<string, unknown>> {
  const gz = Buffer.concat(chunks);
  if (sha256Hex(gz) !== ref.blobHash) throw corrupted(ref, 'blob hash mismatch');
  let json: Buffer;
  try {
    json = await gunzipAsync(gz, { maxOutputLength: Math.max(ref.sizeBytes, 1) });
  } catch (err) {
    throw corrupted(ref, `gunzip failed (${(err as Error).message})`);
  }
  if (json.length !== ref.sizeBytes) throw corrupted(ref, 'size mismatch');
  let doc: unknown;
  try {
    doc = JSON.parse(json.toString('utf8'));
  } catch {
    throw corrupted(ref, 'not JSON');
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw corrupted(ref, 'not a JSON object');
  if (sha256Hex(canonicalJson(doc)) !== ref.contentHash) throw corrupted(ref, 'content hash mismatch');
  return doc as Record<string, unknown>;
}
