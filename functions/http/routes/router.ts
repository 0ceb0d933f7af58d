import { OpenAPIHono } from '@hono/zod-openapi';
import type { Result, Router } from 'hono/router';
import { LinearRouter } from 'hono/router/linear-router';
import { RegExpRouter } from 'hono/router/reg-exp-router';
import { SmartRouter } from 'hono/router/smart-router';
import { TrieRouter } from 'hono/router/trie-router';
import type { ApiEnv } from '../context.ts';
import { validationHook } from '../validation.ts';

/**
 * How many requests an app routes with LinearRouter before it compiles its routes: at LinearRouter's 13–80 µs a
 * request among Berth's routes, about what the compile costs once the code is warm (some 5 ms).
 */
export const QUICK_REQUESTS = 100;

/**
 * Routes the first QUICK_REQUESTS requests as hono/quick does, then as Hono does by default. LinearRouter prepares
 * nothing, where RegExpRouter compiles every route into one expression at its first request, which made the API
 * Lambda's cold start some 11 ms slower (`npm run bench -- lambda`). But LinearRouter reads every route's path at
 * every request, where RegExpRouter's expression takes 1 µs at most: a process that lives on (a warm Lambda, the local
 * server) is better off compiling once. TrieRouter is there, in both, for a path the other cannot take.
 */
class QuickThenCompiled<T> implements Router<T> {
  name = 'LinearRouter, then RegExpRouter';
  readonly #routes: [method: string, path: string, handler: T][] = [];
  readonly #quick = new SmartRouter<T>({ routers: [new LinearRouter(), new TrieRouter()] });
  #routed = 0;

  add(method: string, path: string, handler: T) {
    this.#routes.push([method, path, handler]);
    this.#quick.add(method, path, handler);
  }

  match(method: string, path: string): Result<T> {
    // LinearRouter also takes a path with a trailing slash as the route without it ("/v1/keys/" as "/v1/keys"), where
    // the compiled routers, as Hono's default, answer 404: such a path is routed compiled from the first request on.
    if (this.#routed++ < QUICK_REQUESTS && !hasTrailingSlash(path)) return this.#quick.match(method, path);
    this.compile();
    return this.match(method, path);
  }

  /** Compiles the routes into the router answering from now on (SmartRouter builds its router at its first match). */
  compile() {
    const compiled = new SmartRouter<T>({ routers: [new RegExpRouter(), new TrieRouter()] });
    for (const route of this.#routes) compiled.add(...route);
    compiled.match('GET', '/');
    this.match = compiled.match.bind(compiled);
    this.name = compiled.name;
  }
}

const hasTrailingSlash = (path: string) => path.length > 1 && path.endsWith('/');

/** Has an app made by router() compile its routes now, as a warm-up ahead of traffic would. */
export function compileRoutes(app: { router: Router<unknown> }) {
  if (!(app.router instanceof QuickThenCompiled)) throw new Error('the app was not made by router()');
  app.router.compile();
}

/** An app, or a group of its routes (whose router never matches: the app takes the routes), answering 400 problems. */
export const router = () =>
  new OpenAPIHono<ApiEnv>({ defaultHook: validationHook, router: new QuickThenCompiled() });
