/**
 * Bundles one Lambda handler: `node infra/bundle-handler.ts <entry> <outdir> <define-json>`. Run as a process of its
 * own by the CDK app's local bundling (lambda-code.ts), because esbuild takes plugins only in its asynchronous API.
 */
import { build } from 'esbuild';
import { handlerBuildOptions } from './handler-bundling.ts';

const [entry, outdir, define] = process.argv.slice(2);
if (!entry || !outdir || !define) throw new Error('usage: bundle-handler.ts <entry> <outdir> <define-json>');

await build({
  ...handlerBuildOptions(JSON.parse(define) as Record<string, string>),
  entryPoints: [entry],
  outdir,
});
