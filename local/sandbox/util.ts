import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** An IAM unique id: prefix (`AROA`, `AIPA`, `ANPA`, `AIDA`) + 17 upper-case alphanumerics. */
export function iamUniqueId(prefix: string): string {
  const bytes = randomBytes(17);
  let out = prefix;
  for (const b of bytes) out += ID_ALPHABET[b % ID_ALPHABET.length];
  return out;
}

export const uuid = (): string => randomUUID();

/** ISO-8601 without milliseconds (`2024-05-01T12:00:00Z`), the form IAM and Kubernetes return. */
export function isoSeconds(date: Date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Upper-case hex digest prefix, e.g. the id part of an EKS OIDC issuer. */
export function hexDigest(input: string, length: number): string {
  return createHash('sha256').update(input).digest('hex').slice(0, length).toUpperCase();
}

export function encodeToken(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

export function decodeToken<T>(token: string): T | undefined {
  try {
    return JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Reads a request body (or reuses one a framework already buffered on `req.rawBody` / `req.body`). */
export async function readBody(req: IncomingMessage): Promise<string> {
  const pre = req as IncomingMessage & { rawBody?: unknown; body?: unknown };
  if (req.readableEnded) {
    for (const candidate of [pre.rawBody, pre.body]) {
      if (typeof candidate === 'string') return candidate;
      if (Buffer.isBuffer(candidate)) return candidate.toString('utf8');
    }
    if (pre.body && typeof pre.body === 'object') return JSON.stringify(pre.body);
    return '';
  }
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function deepClone<T>(value: T): T {
  return structuredClone(value);
}

/** Structural equality of JSON values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => jsonEqual(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => Object.hasOwn(bo, k) && jsonEqual(ao[k], bo[k]));
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A caller's value as an error message shows it: strings as they are, anything else as JSON. */
export function shown(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
