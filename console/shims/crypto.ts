/**
 * The one piece of `node:crypto` the shared validation code uses (`createHash('sha256')`, for
 * hashed identity names), for the browser bundle: the console's build maps `node:crypto` here.
 */
import { sha256 } from '@noble/hashes/sha2.js';

export function createHash(algorithm: string) {
  if (algorithm !== 'sha256') throw new Error(`createHash: only sha256 is available in the browser, not ${algorithm}`);
  const hash = sha256.create();
  const api = {
    update(data: Uint8Array | string) {
      hash.update(typeof data === 'string' ? new TextEncoder().encode(data) : data);
      return api;
    },
    digest(encoding: 'hex') {
      if (encoding !== 'hex') throw new Error('createHash: only hex digests are available in the browser');
      return Array.from(hash.digest(), (b) => b.toString(16).padStart(2, '0')).join('');
    },
  };
  return api;
}
