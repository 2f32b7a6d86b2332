/** Running the AWS CLI and kubectl against the sandbox the way an admin would, with no user config. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export function onPath(binary: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Environment for `aws` with dummy credentials, HOME in `dir`, no config files, no retries. */
export function awsCliEnv(dir: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: dir,
    AWS_ACCESS_KEY_ID: 'x',
    AWS_SECRET_ACCESS_KEY: 'x',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: join(dir, 'none'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'),
    AWS_MAX_ATTEMPTS: '1',
  };
}

/** Arguments that point `aws` at the sandbox of a local server, with JSON output. */
export const awsSandboxArgs = (serverUrl: string): string[] => ['--endpoint-url', `${serverUrl}/sandbox/aws`, '--output', 'json'];
