import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { ensureEngineOnThisMachine } from '../../../functions/local/engine-network.ts';

/** An engine whose default bridge keeps its containers apart and has the IPAM configuration `config`. */
const engineWith = (config: { Subnet?: string; Gateway?: string }[]) => {
  const bridge = {
    Name: 'bridge',
    Options: { 'com.docker.network.bridge.enable_icc': 'false' },
    IPAM: { Config: config },
  };
  return { getNetwork: () => ({ inspect: async () => bridge }) } as unknown as Docker;
};

describe("the engine's network, where the engine names no gateway", () => {
  it("is taken as this machine's where one of its addresses is in the subnet", async () => {
    const engine = engineWith([{ Subnet: '172.17.0.0/16' }]);
    await expect(ensureEngineOnThisMachine(engine, ['127.0.0.1', '172.17.0.1'])).resolves.toBeUndefined();
    await expect(ensureEngineOnThisMachine(engine, ['127.0.0.1', '10.0.0.5'])).rejects.toThrow(
      "its network bridge's subnet (172.17.0.0/16) holds none of this machine's addresses, where an engine running here gives its bridge one.",
    );
  });

  it('is compared as addresses, not as text, in IPv6', async () => {
    const engine = engineWith([{ Subnet: 'fd00:dead::/64', Gateway: 'fd00:dead::1' }]);
    // As the kernel's if_inet6 lists it.
    const own = ['0000:0000:0000:0000:0000:0000:0000:0001', 'fd00:dead:0000:0000:0000:0000:0000:0001'];
    await expect(ensureEngineOnThisMachine(engine, own)).resolves.toBeUndefined();
  });

  it('passes where the engine names neither gateway nor subnet: nothing tells', async () => {
    await expect(ensureEngineOnThisMachine(engineWith([]), ['127.0.0.1'])).resolves.toBeUndefined();
  });
});
