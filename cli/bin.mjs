#!/usr/bin/env node
// `iam-mapping` entry point: runs cli/iam-mapping.ts through tsx (no build step).
import { register } from 'tsx/esm/api';

register();
const { run } = await import('./iam-mapping.ts');
process.exitCode = await run(process.argv.slice(2));
