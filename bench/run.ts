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
for (const name of names.length ? names : Object.keys(BENCHES)) {
  const bench = BENCHES[name];
  if (!bench) {
    console.error(`unknown bench "${name}"; choose from ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
  await bench();
}
