/**
 * What `config get` remembers for `config update`: the etag of the version last fetched, per
 * endpoint and cloud, in `${XDG_STATE_HOME:-~/.local/state}/iam-mapping/etags.json`.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface SavedEtag {
  etag: string;
  version: number;
  saved_at: string;
}

export function stateDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_STATE_HOME && env.XDG_STATE_HOME.startsWith('/') ? env.XDG_STATE_HOME : join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'iam-mapping');
}

const key = (endpoint: string, cloud: string) => `${endpoint.replace(/\/+$/, '')}|${cloud}`;

function load(file: string): Record<string, SavedEtag> {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, SavedEtag>) : {};
  } catch {
    return {};
  }
}

export class EtagState {
  private readonly file: string;
  constructor(private readonly dir: string) {
    this.file = join(dir, 'etags.json');
  }

  get(endpoint: string, cloud: string): SavedEtag | undefined {
    return load(this.file)[key(endpoint, cloud)];
  }

  set(endpoint: string, cloud: string, etag: string, version: number): void {
    const all = load(this.file);
    all[key(endpoint, cloud)] = { etag, version, saved_at: new Date().toISOString() };
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}
