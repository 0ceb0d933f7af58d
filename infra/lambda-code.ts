import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssetHashType, AssetStaging, DockerImage } from 'aws-cdk-lib';
import { Code } from 'aws-cdk-lib/aws-lambda';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUNDLER = join(ROOT, 'infra/bundle-handler.ts');

/**
 * A handler's code, bundled on this machine by esbuild (no Docker) through bundle-handler.ts: `index.mjs` plus the
 * chunks it loads on first use. NodejsFunction cannot do this — it writes one file and takes no esbuild plugins —
 * and one file makes every cold start parse code that most requests never run (see `npm run bench -- lambda`).
 */
export function handlerCode(entry: string, define: Record<string, string>): Code {
  const args = (outputDir: string) => [BUNDLER, join(ROOT, entry), outputDir, JSON.stringify(define)];
  return Code.fromAsset(ROOT, {
    // The bundle is the asset: its hash changes exactly when the deployed code does.
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Never pulled: local bundling always succeeds or throws.
      image: DockerImage.fromRegistry('dummy'),
      // What bundles, also telling the CDK's bundling cache one handler from another.
      command: ['node', ...args(AssetStaging.BUNDLING_OUTPUT_DIR)],
      local: {
        tryBundle(outputDir) {
          execFileSync(process.execPath, args(outputDir), {
            cwd: ROOT,
            stdio: ['ignore', 'inherit', 'inherit'],
          });
          return true;
        },
      },
    },
  });
}
