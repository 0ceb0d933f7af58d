import { describe, expect, it } from 'vitest';
import { unreachableBecause } from '../../../functions/adapters/docker/container-listeners.ts';

describe('what listens in a container', () => {
  it('tells why the app cannot be reached on its port, or nothing when it listens there for everyone', () => {
    const on = (address: string, port: number) => ({
      address,
      port,
      inode: '1',
      loopback: /^(127\.|::1$|::ffff:127\.)/.test(address),
    });
    expect(unreachableBecause([on('127.0.0.1', 8080), on('::1', 8080)], 8080)).toBe(
      'it listens on 127.0.0.1:8080 and [::1]:8080 inside its container, which nothing outside the container reaches: listen on 0.0.0.0',
    );
    expect(unreachableBecause([on('127.0.0.1', 8080), on('::', 8080)], 8080)).toBeUndefined();
    expect(unreachableBecause([on('0.0.0.0', 3000), on('::', 3000), on('127.0.0.1', 9229)], 8080)).toBe(
      "it listens on port 3000, 9229, not on 8080, the app's port, which it is given as PORT",
    );
    expect(
      unreachableBecause(
        [1, 2, 3, 4].map((p) => on('0.0.0.0', p)),
        8080,
      ),
    ).toMatch(/on port 1, 2, 3, …, not/);
    expect(unreachableBecause([], 8080)).toBe(
      'nothing in its container listens on a TCP port yet: an app that takes longer to start needs a longer healthCheck.gracePeriodSeconds',
    );
  });
});
