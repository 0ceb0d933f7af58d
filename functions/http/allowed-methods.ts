/** A Hono route as `app.routes` lists it. */
interface RouteEntry {
  method: string;
  path: string;
}

const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The methods some route answers at a path, for a 405's `Allow` (HEAD wherever GET is, as Hono answers it); none when
 * no route has the path. Middleware (method `ALL`) answers nothing by itself and does not count.
 */
export function allowedMethods(routes: readonly RouteEntry[]): (path: string) => string[] {
  const patterns = routes
    .filter((route) => route.method !== 'ALL')
    .map((route) => ({
      method: route.method,
      path: new RegExp(
        `^${route.path
          .split('/')
          .map((segment) => (segment.startsWith(':') ? '[^/]+' : escaped(segment)))
          .join('/')}$`,
      ),
    }));
  return (path) => {
    const methods = new Set(patterns.filter((p) => p.path.test(path)).map((p) => p.method));
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  };
}
