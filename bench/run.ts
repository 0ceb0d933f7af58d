import { ownTmpdir } from '../test/support/own-tmpdir.ts';
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
const removeRunDir = ownTmpdir('berth-bench-run-');
try {
  for (const name of names.length ? names : Object.keys(BENCHES)) await BENCHES[name]?.();
} finally {
  removeRunDir();
}
