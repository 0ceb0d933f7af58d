import type { FakeRegistry } from '../fakes/fake-registry.ts';

/** The digest of the `n`th image pushed to acme/web (pushedImage). */
export const digestOf = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;

/** acme/web:`n` in the platform registry at 127.0.0.1:5000, pushed to `registry` as digestOf(n). */
export function pushedImage(registry: FakeRegistry, n: number): string {
  registry.digests.set(`acme/web:${n}`, digestOf(n));
  return `127.0.0.1:5000/acme/web:${n}`;
}
