/** Document body codec: canonical JSON → gzip → ≤ N-byte chunks, and the verified reverse. */
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { canonicalJson, sha256Hex } from '../../lib/json.js';
import { StoredDataError } from '../../lib/stored.js';
import { keys } from './table.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

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
  new StoredDataError(
    `${keys.cloudPk(ref.cloudId)} / ${keys.versionSk(ref.version)}`,
    'document',
    `the config of cloud ${ref.cloudId} version ${ref.version}: ${why}`,
  );

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
