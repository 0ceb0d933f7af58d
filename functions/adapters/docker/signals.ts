import { constants } from 'node:os';

/**
 * A signal's name (`SIGTERM`), from its number (`15`, as Docker's kill events give it) or its name with or without
 * `SIG` (as an image's `STOPSIGNAL` may); `signal 64` for a number Node does not name.
 */
export function signalName(signal: string): string {
  if (/^\d+$/.test(signal)) {
    const named = Object.entries(constants.signals).find(([, n]) => String(n) === signal);
    return named?.[0] ?? `signal ${signal}`;
  }
  const upper = signal.toUpperCase();
  return upper.startsWith('SIG') ? upper : `SIG${upper}`;
}
