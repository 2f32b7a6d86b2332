/** Shared helpers for the benchmarks: machine description, percentiles, the final JSON line, the run on a local server. */
import { rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import type { Sandbox } from '../local/sandbox/index.js';
import type { RolePlan } from '../lib/provisioning/plan.js';

export interface Machine {
  cpus: number;
  model: string;
  node: string;
  /** 1, 5 and 15 minute load averages when the result was emitted (other jobs share the machine). */
  load_average: number[];
}

export function machine(): Machine {
  const list = cpus();
  return { cpus: list.length, model: list[0]?.model.trim() ?? 'unknown', node: process.version, load_average: loadavg().map((l) => round(l, 2)) };
}

/** Nearest-rank percentile of an ascending-sorted array (p in 0..100). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

export const round = (x: number, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** Prints the result as the LAST line of stdout (bench/run.ts parses it). */
export function emit(result: { bench: string } & Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ ...result, machine: machine() })}\n`);
}

/**
 * A benchmark's body against a local server, then the server closed and its data dir removed, then
 * exit: with the code `body` returns, or 1 when it threw (the error printed first).
 */
export async function runThenExit(server: { close(): Promise<void> }, dataDir: string, body: () => Promise<number>): Promise<never> {
  let exitCode: number;
  try {
    exitCode = await body();
  } catch (e) {
    console.error(e);
    exitCode = 1;
  } finally {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  process.exit(exitCode);
}

/**
 * A planned role written straight into the sandbox as EnsureRole and EnsurePermissions make it —
 * with the deployment's permissions boundary (`boundary`), else every role would be drift — for
 * benchmarks that seed thousands of identities without running the workflow.
 */
export function seedRole(sandbox: Sandbox, role: RolePlan, boundary: string | undefined) {
  const created = sandbox.iam.createRole({
    roleName: role.name,
    path: role.path,
    assumeRolePolicyDocument: JSON.stringify(role.trustPolicy),
    tags: role.tags,
    ...(boundary ? { permissionsBoundary: boundary } : {}),
  });
  sandbox.iam.putRolePolicy(role.name, role.permissionPolicy.name, JSON.stringify(role.permissionPolicy.document));
  return created;
}
