import { describe, expect, it } from 'vitest';
import { FollowLimit } from '../../../functions/http/follow-limit.ts';

describe('FollowLimit', () => {
  it("gives a follow back once however often it is told, so that it never frees another's", () => {
    const limit = new FollowLimit(2);
    const first = limit.take('acme');
    limit.take('acme');
    first();
    first();
    limit.take('acme');
    expect(() => limit.take('acme')).toThrow(/2 logs of this tenant are followed already/);
    // Each tenant's follows are its own.
    expect(limit.take('globex')).toBeTypeOf('function');
  });
});
