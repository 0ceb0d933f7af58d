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
 * @hono/zod-openapi imports zod's `z` namespace only to add `.openapi()` to `z.ZodType`, and a namespace used as a
 * value keeps all of zod in the bundle, every locale's messages too: 144 KB in each Lambda's, 12 ms of the API's cold
 * start (`npm run bench -- lambda`). Given a `z` that holds `ZodType` alone (zod-openapi-zod.ts), esbuild keeps only
 * the parts of zod Berth's schemas use; they import it as `* as z` (biome.json forbids importing `z` by name). Were
 * zod-openapi to use more of its `z`, the API bundle that the tests run would fail at its first request.
 */
const zodTypeOnlyForZodOpenApi: Plugin = {
  name: 'zod-type-only-for-zod-openapi',
  setup(bundle) {
    bundle.onResolve({ filter: /^zod$/ }, (args) =>
      /[\\/]@hono[\\/]zod-openapi[\\/]/.test(args.importer)
        ? { path: join(ROOT, 'infra/zod-openapi-zod.ts') }
        : undefined,
    );
  },
};

/**
 * `node:http` through `require`, as Lambda's runtime client loads it, and not as an ES module: Node 24 builds a
 * builtin's ES module by reading every export, and `node:http`'s `WebSocket`, `CloseEvent` and `MessageEvent` are
 * getters that load undici, Node's fetch: 17–27 ms of each job's import (`npm run bench -- lambda`), though no job
 * makes a `Request` (the API makes one per event, through hono/aws-lambda, and pays it there instead). Berth's table
 * client and the SDK's HTTP handler both import it. esbuild's interop with a CommonJS module reads an export when used.
 */
const httpThroughRequire: Plugin = {
  name: 'http-through-require',
  setup(bundle) {
    bundle.onResolve({ filter: /^(node:)?http$/ }, (args) =>
      args.namespace === 'http-through-require'
        ? undefined
        : { path: 'node:http', namespace: 'http-through-require' },
    );
    bundle.onLoad({ filter: /.*/, namespace: 'http-through-require' }, () => ({
      contents: "module.exports = require('node:http');",
      loader: 'js',
    }));
  },
};

/** What a handler's bundle is built for: an install without EKS leaves the Kubernetes client out (see aws-eks-runtime.ts). */
export const bundleDefine = (eksBundled: boolean) => ({
  'process.env.BERTH_EKS_BUNDLED': JSON.stringify(String(eksBundled)),
});

/**
 * How every Lambda handler is bundled (bundle-handler.ts; the Lambda bench bundles its baselines the same way): ESM
 * split into chunks, only the parts of zod Berth uses, the SDK's credentials from the environment only. `index.mjs`
 * holds what every invocation runs; what a handler imports dynamically (adapters a request may never need) stays in
 * chunks loaded on first use, so a cold start neither parses nor evaluates it.
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
    plugins: [zodTypeOnlyForZodOpenApi, environmentCredentials, httpThroughRequire],
    logLevel: 'warning',
  };
}
