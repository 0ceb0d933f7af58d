import { type RetryOptions, withThrottlingRetry } from './retry.ts';

/**
 * Every page of a paged AWS call, in order, each call retried when throttled (the SDK's own paginators would not
 * be): `call` asks for the page after `token` (undefined for the first), `next` reads the token of the page after
 * it from a page (none after the last).
 */
export async function* allPages<Page>(
  call: (token: string | undefined) => Promise<Page>,
  next: (page: Page) => string | undefined,
  retry: RetryOptions = {},
): AsyncGenerator<Page> {
  let token: string | undefined;
  do {
    const page = await withThrottlingRetry(() => call(token), retry);
    yield page;
    token = next(page);
  } while (token);
}
