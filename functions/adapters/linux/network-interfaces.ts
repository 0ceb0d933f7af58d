import { readFileSync } from 'node:fs';

/**
 * The names of the network interfaces a /proc `net` directory's `dev` table lists (`/proc/net`: this process's
 * network's), up or down, where Node's `os.networkInterfaces()` leaves out one that is not running — a Docker bridge
 * no container is attached to. Empty where the table cannot be read (not Linux).
 */
export function interfaceNames(netDir = '/proc/net'): string[] {
  let table: string;
  try {
    table = readFileSync(`${netDir}/dev`, 'utf8');
  } catch {
    return [];
  }
  // Two lines of headings, then `<name>: <counters>` a line.
  return table
    .split('\n')
    .slice(2)
    .flatMap((line) => {
      const name = line.split(':')[0]?.trim();
      return name ? [name] : [];
    });
}
