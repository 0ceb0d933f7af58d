/** Header fields that belong to one connection (RFC 9110 §7.6.1), which a proxy does not pass on. */
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
];

const TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`a-z|~]+$/;

/**
 * The end-to-end fields of `headers`: all but the hop-by-hop ones and those its `Connection` names, as a load
 * balancer passes a message on. `Accept-Encoding` and `Content-Encoding` go as they came: the ingress neither
 * decodes an answer nor asks for an encoding of its own.
 */
export function endToEnd(headers: Headers | Record<string, string>): Headers {
  const kept = new Headers(headers);
  for (const named of (kept.get('connection') ?? '').split(',')) {
    const name = named.trim();
    if (TOKEN.test(name)) kept.delete(name);
  }
  for (const name of HOP_BY_HOP) kept.delete(name);
  return kept;
}
