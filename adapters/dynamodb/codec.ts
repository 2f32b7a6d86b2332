/**
 * Document body codec: canonical JSON → gzip → ≤ N-byte chunks, and the verified reverse.
 * A config may be 5 MiB (25,000 rules): its JSON text and canonical hash are built in slices
 * that give the event loop a turn every ~20 ms (lib/json-sliced.ts), and gzip runs on the
 * threadpool, so neither a PUT's commit nor a read of a large version stalls other requests.
 */
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { sha256Hex } from '../../lib/json.js';
import { jsonSteps } from '../../lib/json-sliced.js';
import { runStepsSliced } from '../../lib/steps.js';
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
  const text = (await runStepsSliced(jsonSteps(document, { canonical: false }))).text;
  const json = Buffer.from(text, 'utf8');
  const gz = await gzipAsync(json);
  const chunks: Buffer[] = [];
  for (let off = 0; off < gz.length; off += chunkSizeBytes) chunks.push(gz.subarray(off, off + chunkSizeBytes));
  const canonical = await runStepsSliced(jsonSteps(document, { canonical: true }));
  return {
    contentHash: canonical.sha256,
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
  if ((await runStepsSliced(jsonSteps(doc, { canonical: true }))).sha256 !== ref.contentHash) throw corrupted(ref, 'content hash mismatch');
  return doc as Record<string, unknown>;
}
