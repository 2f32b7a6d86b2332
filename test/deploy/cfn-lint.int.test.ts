/**
 * The packaged CloudFormation template passes cfn-lint (the installed version's rules, e.g. E2533
 * runtime deprecation) with no error. `osls package` runs offline; skipped where cfn-lint is
 * not on PATH (`pip install cfn-lint`).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { onPath } from '../helpers/cli-env.js';
import { oslsPackage } from '../helpers/osls.js';

const run = promisify(execFile);
const hasCfnLint = onPath('cfn-lint');

interface Finding {
  Rule: { Id: string };
  Level: 'Error' | 'Warning' | 'Informational';
  Message: string;
  Location: { Path?: Array<string | number> };
}

if (!hasCfnLint) console.warn('cfn-lint is not on PATH: skipping the cfn-lint check of the packaged template (pip install cfn-lint)');

describe.skipIf(!hasCfnLint)('cfn-lint over the packaged template', () => {
  it('`osls package` then cfn-lint: no errors', async () => {
    const out = mkdtempSync(join(tmpdir(), 'osls-cfn-lint-'));
    try {
      await oslsPackage(out);
      const template = join(out, 'cloudformation-template-update-stack.json');
      // cfn-lint exits non-zero whenever it reports anything (a bit per level); read its JSON.
      const stdout = await run('cfn-lint', ['--format', 'json', '--', template], { maxBuffer: 16 * 1024 * 1024 }).then(
        (r) => r.stdout,
        (e: Error & { stdout?: string; stderr?: string }) => {
          if (!e.stdout) throw new Error(`cfn-lint failed: ${e.stderr || e.message}`, { cause: e });
          return e.stdout;
        },
      );
      const findings = JSON.parse(stdout) as Finding[];
      const errors = findings.filter((f) => f.Level === 'Error').map((f) => `${f.Rule.Id} ${(f.Location.Path ?? []).join('/')}: ${f.Message}`);
      expect(errors).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 300_000);
});
