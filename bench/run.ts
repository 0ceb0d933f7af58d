import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchApi } from './api.ts';
import { benchDeploy } from './deploy.ts';
import { benchEks } from './eks.ts';
import { benchLambda } from './lambda.ts';

/** `npm run bench -- <name>`: runs one benchmark, or all of them without a name. */
const BENCHES: Record<string, () => Promise<void>> = {
  api: benchApi,
  deploy: benchDeploy,
  eks: benchEks,
  lambda: benchLambda,
};

const names = process.argv.slice(2);
const unknown = names.filter((name) => !BENCHES[name]);
if (unknown.length) {
  console.error(`unknown bench "${unknown.join('", "')}"; choose from ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}
// What the benches write to the temporary directory (platform data, keys) goes under one of their own, removed after.
const runDir = mkdtempSync(join(tmpdir(), 'berth-bench-run-'));
process.env.TMPDIR = runDir;
try {
  for (const name of names.length ? names : Object.keys(BENCHES)) await BENCHES[name]?.();
} finally {
  rmSync(runDir, { recursive: true, force: true });
}
