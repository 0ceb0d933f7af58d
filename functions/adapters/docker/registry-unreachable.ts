/**
 * The waits before each new try of a pull the engine refused because the registry could not be reached for now.
 * Without them, an image's first pull while the platform's registry was being started again (its restart waits a
 * second) failed three starts within a second and a half, and so the deployment, where ECS and kubelet retry a pull
 * at their own pace. Seven seconds in all: a registry down for longer fails the start as before.
 */
export const PULL_RETRY_WAITS_MS = [1_000, 2_000, 4_000];

/**
 * How the engine says a registry could not be reached for now: nothing listens (`dial tcp 127.0.0.1:5000: connect:
 * connection refused`), the connection broke or timed out, the resolver failed (`server misbehaving`, not `no such
 * host`: a name that does not exist fails at once), or a proxy in front of the registry answered that it is away.
 * A refusal of the registry's own (`manifest unknown`, `unauthorized`) is not among them: no wait changes it.
 */
const FOR_NOW = new RegExp(
  [
    'connection refused',
    'connection reset by peer',
    'i/o timeout',
    'TLS handshake timeout',
    'server misbehaving',
    'unexpected HTTP status: 50[234]\\b',
  ].join('|'),
);

/** Whether the engine's words for a refused pull say the registry could not be reached for now. */
export const registryUnreachable = (engineWords: string) => FOR_NOW.test(engineWords);
