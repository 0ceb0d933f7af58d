import type { TrafficRouter } from '../core/ports.ts';

export type Endpoint = { host: string; port: number };

/** The local stand-in for the load balancer: ready endpoints per app, handed out round robin. */
export class RoutingTable implements TrafficRouter {
  private readonly routes = new Map<string, { endpoints: Endpoint[]; next: number }>();

  async route(tenantId: string, app: string, endpoints: Endpoint[]): Promise<void> {
    const key = `${tenantId}/${app}`;
    const current = this.routes.get(key);
    this.routes.set(key, { endpoints: [...endpoints], next: current?.next ?? 0 });
  }

  async remove(tenantId: string, app: string): Promise<void> {
    this.routes.delete(`${tenantId}/${app}`);
  }

  /** How many endpoints an app has right now. */
  size(tenantId: string, app: string): number {
    return this.routes.get(`${tenantId}/${app}`)?.endpoints.length ?? 0;
  }

  /** The next endpoint of an app, or undefined when none is ready. */
  pick(tenantId: string, app: string): Endpoint | undefined {
    const route = this.routes.get(`${tenantId}/${app}`);
    if (!route || route.endpoints.length === 0) return undefined;
    const endpoint = route.endpoints[route.next % route.endpoints.length];
    route.next = (route.next + 1) % route.endpoints.length;
    return endpoint;
  }
}
