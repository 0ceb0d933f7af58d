import { describe, expect, it } from 'vitest';
import { registryUnreachable } from '../../../functions/adapters/docker/registry-unreachable.ts';

describe('a pull refused because the registry could not be reached for now', () => {
  it.each([
    'Get "http://127.0.0.1:5000/v2/": dial tcp 127.0.0.1:5000: connect: connection refused',
    'Get "https://registry.example/v2/": read tcp 10.0.0.5:51234->10.0.0.9:443: read: connection reset by peer',
    'Get "https://registry.example/v2/": dial tcp 10.0.0.9:443: i/o timeout',
    'Get "https://registry.example/v2/": net/http: TLS handshake timeout',
    'Get "https://registry.example/v2/": dial tcp: lookup registry.example: server misbehaving',
    'received unexpected HTTP status: 503 Service Unavailable',
    'received unexpected HTTP status: 502 Bad Gateway',
  ])('is one to try again: %s', (words) => {
    expect(registryUnreachable(words)).toBe(true);
  });

  it.each([
    'manifest for 127.0.0.1:5000/acme/web:1 not found: manifest unknown: manifest unknown',
    'Head "http://127.0.0.1:5000/v2/acme/web/manifests/1": no basic auth credentials',
    'pull access denied for 127.0.0.1:5000/acme/web, repository does not exist or may require authorization',
    'Get "https://registry.invalid/v2/": dial tcp: lookup registry.invalid: no such host',
    'received unexpected HTTP status: 500 Internal Server Error',
    "error parsing HTTP 404 response body: invalid character 'i' looking for beginning of value",
  ])('is not: %s', (words) => {
    expect(registryUnreachable(words)).toBe(false);
  });
});
