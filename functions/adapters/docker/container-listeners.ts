import type { Listener } from '../linux/tcp-listeners.ts';

/**
 * Why nothing outside a container reaches its app on `port`, told from what listens inside it: on the loopback
 * address alone (most frameworks' development servers listen so), on other ports, or on none. Undefined when
 * something listens on `port` at an address others reach: the connection failed for another reason.
 */
export function unreachableBecause(listeners: Listener[], port: number): string | undefined {
  const onPort = listeners.filter((l) => l.port === port);
  if (onPort.some((l) => !l.loopback)) return undefined;
  if (onPort.length) {
    const where = [...new Set(onPort.map((l) => (l.address.includes(':') ? `[${l.address}]` : l.address)))];
    return `it listens on ${where.map((a) => `${a}:${port}`).join(' and ')} inside its container, which nothing outside the container reaches: listen on 0.0.0.0`;
  }
  const others = [...new Set(listeners.map((l) => l.port))].sort((a, b) => a - b);
  if (!others.length)
    return 'nothing in its container listens on a TCP port yet: an app that takes longer to start needs a longer healthCheck.gracePeriodSeconds';
  return `it listens on port ${others.slice(0, 3).join(', ')}${others.length > 3 ? ', …' : ''}, not on ${port}, the app's port, which it is given as PORT`;
}
