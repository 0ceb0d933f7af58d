import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions, Plugin } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The SDK's credentials from the environment alone: see functions/shared/lambda-credentials.ts. */
const environmentCredentials: Plugin = {
  name: 'environment-credentials',
  setup(bundle) {
    bundle.onResolve({ filter: /^@aws-sdk\/credential-provider-node$/ }, () => ({
      path: join(ROOT, 'functions/shared/lambda-credentials.ts'),
    }));
  },
};

/**
 * zod's `z` namespace carries every locale's error messages (258 KB, a fifth of the API bundle), kept because
 * zod-openapi extends the whole namespace. Berth's problem details are in English, zod's default.
 */
const englishOnlyZod: Plugin = {
  name: 'zod-english-only',
  setup(bundle) {
    bundle.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, (args) => ({
      contents: 'export { default as en } from "./en.js";',
      resolveDir: args.path.replace(/[\\/]index\.js$/, ''),
    }));
  },
};

/** What a handler's bundle is built for: an install without EKS leaves the Kubernetes client out (see aws-eks-runtime.ts). */
export const bundleDefine = (eksBundled: boolean) => ({
  'process.env.BERTH_EKS_BUNDLED': JSON.stringify(String(eksBundled)),
});

/**
 * How every Lambda handler is bundled (bundle-handler.ts; the Lambda bench bundles its baselines the same way): ESM
 * split into chunks, zod's English messages only, the SDK's credentials from the environment only. `index.mjs` holds
 * what every invocation runs; what a handler imports dynamically (adapters a request may never need) stays in chunks
 * loaded on first use, so a cold start neither parses nor evaluates it.
 */
export function handlerBuildOptions(define: Record<string, string>): BuildOptions {
  return {
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    entryNames: 'index',
    chunkNames: 'chunk-[hash]',
    outExtension: { '.js': '.mjs' },
    // Whitespace and syntax only: identifiers keep their names, so a stack trace in the logs names its functions.
    // A cold start as fast as with names minified too, and about 10 ms faster than no minifying at all (measured
    // with the bundles `npm run bench -- lambda` runs).
    minifyWhitespace: true,
    minifySyntax: true,
    // No source map: Node uses one only with --enable-source-maps, which costs the API 35 ms a cold start
    // (measured with `npm run bench -- lambda`); unused, it made each package five times larger.
    sourcemap: false,
    // ESM builds of the SDK first; the pinned SDK is bundled rather than whatever version the runtime ships.
    mainFields: ['module', 'main'],
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    define,
    plugins: [englishOnlyZod, environmentCredentials],
    logLevel: 'warning',
  };
}
