/**
 * Tampering as an operator would: the AWS CLI and kubectl against the sandbox of a running local
 * server when they are installed, else the same change through the sandbox's own API.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Sandbox } from '../../local/sandbox/index.js';
import { awsCliEnv, onPath } from '../helpers/cli-env.js';

const run = promisify(execFile);

export interface Operator {
  /** How the changes were made: `cli` (aws / kubectl) or `sandbox` (its inspection API). */
  via: { aws: 'cli' | 'sandbox'; kubectl: 'cli' | 'sandbox' };
  getTrust(role: string): Promise<any>;
  putTrust(role: string, doc: unknown): Promise<void>;
  annotate(namespace: string, sa: string, key: string, value: string): Promise<void>;
  unlabel(namespace: string, sa: string, key: string): Promise<void>;
  deleteServiceAccount(namespace: string, sa: string): Promise<void>;
  close(): void;
}

export function operator(url: string, sandbox: Sandbox, options: { useCli?: boolean } = {}): Operator {
  const dir = mkdtempSync(join(tmpdir(), 'drift-operator-'));
  writeFileSync(join(dir, 'kubeconfig'), '');
  const useAws = (options.useCli ?? true) && onPath('aws');
  const useKubectl = (options.useCli ?? true) && onPath('kubectl');

  const aws = async (...args: string[]): Promise<string> => {
    const env = awsCliEnv(dir);
    const { stdout } = await run('aws', ['--endpoint-url', `${url}/sandbox/aws`, '--output', 'json', ...args], { env, timeout: 30_000 });
    return stdout;
  };
  const kubectl = async (...args: string[]): Promise<string> => {
    const env = { PATH: process.env.PATH, HOME: dir, KUBECONFIG: join(dir, 'kubeconfig') };
    const base = ['--server', `${url}/sandbox/k8s`, '--insecure-skip-tls-verify', '--cache-dir', join(dir, 'cache')];
    const { stdout } = await run('kubectl', [...base, ...args], { env, timeout: 30_000 });
    return stdout;
  };
  const mergePatch = (namespace: string, sa: string, metadata: Record<string, unknown>) =>
    sandbox.k8s.patch('serviceaccounts', namespace, sa, 'application/merge-patch+json', { metadata });

  let n = 0;
  return {
    via: { aws: useAws ? 'cli' : 'sandbox', kubectl: useKubectl ? 'cli' : 'sandbox' },
    async getTrust(role) {
      if (!useAws) return sandbox.iam.trustPolicy(role);
      return JSON.parse(await aws('iam', 'get-role', '--role-name', role)).Role.AssumeRolePolicyDocument;
    },
    async putTrust(role, doc) {
      if (!useAws) {
        sandbox.iam.updateAssumeRolePolicy(role, JSON.stringify(doc));
        return;
      }
      const file = join(dir, `trust-${++n}.json`);
      writeFileSync(file, JSON.stringify(doc, null, 2));
      await aws('iam', 'update-assume-role-policy', '--role-name', role, '--policy-document', `file://${file}`);
    },
    async annotate(namespace, sa, key, value) {
      if (!useKubectl) mergePatch(namespace, sa, { annotations: { [key]: value } });
      else await kubectl('annotate', 'sa', sa, '-n', namespace, `${key}=${value}`, '--overwrite');
    },
    async unlabel(namespace, sa, key) {
      if (!useKubectl) mergePatch(namespace, sa, { labels: { [key]: null } });
      else await kubectl('label', 'sa', sa, '-n', namespace, `${key}-`);
    },
    async deleteServiceAccount(namespace, sa) {
      if (!useKubectl) sandbox.k8s.remove('serviceaccounts', namespace, sa, {});
      else await kubectl('delete', 'sa', sa, '-n', namespace);
    },
    close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
