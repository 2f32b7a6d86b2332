/** Starts the whole local system (HTTP API + dynalite) for a test file, on loopback, and stops it. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Role } from '../../lib/auth.js';
import { loadOrCreateSecret, mintToken } from '../../local/auth.js';
import { startLocalServer, type LocalServer, type LocalServerOptions } from '../../local/server.js';

export interface Harness {
  server: LocalServer;
  dataDir: string;
  token(role: Role, subject?: string): Promise<string>;
  api(method: string, path: string, options?: RequestOptions): Promise<ApiResponse>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface RequestOptions {
  role?: Role | null;
  token?: string;
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export async function startHarness(options: Partial<LocalServerOptions> = {}): Promise<Harness> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'iam-mapping-test-'));
  let server = await startLocalServer({ dataDir, port: 0, ...options });
  const secret = loadOrCreateSecret(dataDir);
  const tokens = new Map<string, string>();
  const token = async (role: Role, subject = `${role}@example.com`) => {
    const key = `${role}/${subject}`;
    let t = tokens.get(key);
    if (!t) tokens.set(key, (t = await mintToken(secret, role, subject)));
    return t;
  };
  const harness: Harness = {
    get server() {
      return server;
    },
    dataDir,
    token,
    async api(method, path, o = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      const role = o.role === undefined ? 'owner' : o.role;
      if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
      else if (role !== null) headers.authorization = `Bearer ${await token(role)}`;
      let body: string | Buffer | undefined;
      if (o.body !== undefined) {
        body = typeof o.body === 'string' || Buffer.isBuffer(o.body) ? o.body : JSON.stringify(o.body);
        headers['content-type'] = o.contentType ?? (typeof o.body === 'string' ? 'application/yaml' : 'application/json');
      }
      const res = await fetch(`${server.url}${path}`, { method, headers, body });
      const text = await res.text();
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, headers: res.headers, text, json };
    },
    async restart() {
      await server.close();
      server = await startLocalServer({ ...options, dataDir, port: server.port });
    },
    async stop() {
      await server.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return harness;
}
