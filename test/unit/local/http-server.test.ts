import { RequestError } from '@hono/node-server';
import { describe, expect, it, vi } from 'vitest';
import { answerUnreadable } from '../../../functions/local/http-server.ts';

describe("the local servers' answer to what @hono/node-server cannot make a request of", () => {
  it('is 400 problem+json saying what could not be read', async () => {
    const res = answerUnreadable(new RequestError('Backslash in request path'));
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({
      code: 'validation.failed',
      detail: 'the request line or its Host header cannot be read: Backslash in request path',
    });
  });

  it('is a logged 500 without internals for any other error', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const res = answerUnreadable(new Error('secret internals'));
      expect(res.status).toBe(500);
      const body = await res.text();
      expect(JSON.parse(body)).toMatchObject({ code: 'internal' });
      expect(body).not.toContain('secret internals');
      expect(logged).toHaveBeenCalledWith(expect.stringContaining('secret internals'));
    } finally {
      logged.mockRestore();
    }
  });
});
