import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rememberRegistryAddress } from '../../../functions/local/registry-addresses.ts';

describe("the platform registry's addresses", () => {
  it('notes each port the registry listens on for a data directory, and gives back the others', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-registry-'));
    expect(rememberRegistryAddress(dir, '127.0.0.1:5000')).toEqual([]);
    expect(rememberRegistryAddress(dir, '127.0.0.1:5000')).toEqual([]);
    // Port 5000 taken by another program: BERTH_REGISTRY_PORT=5001 at the next start, then back.
    expect(rememberRegistryAddress(dir, '127.0.0.1:5001')).toEqual(['127.0.0.1:5000']);
    expect(rememberRegistryAddress(dir, '127.0.0.1:5000')).toEqual(['127.0.0.1:5001']);
    expect(readFileSync(join(dir, 'addresses'), 'utf8')).toBe('127.0.0.1:5000\n127.0.0.1:5001\n');
  });
});
