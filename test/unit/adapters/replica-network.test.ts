import type Docker from 'dockerode';
import { describe, expect, it, vi } from 'vitest';
import { APPS_NETWORK, replicaNetwork } from '../../../functions/adapters/docker/replica-network.ts';

const ISOLATED = { 'com.docker.network.bridge.enable_icc': 'false' };
const conflict = () =>
  Promise.reject(
    Object.assign(new Error('network with name berth-apps already exists'), { statusCode: 409 }),
  );

/**
 * An engine whose default bridge lets containers reach one another, whose labelled networks are `listed` (one answer
 * per call, then none) and whose create does `create`. The real engine's part is in
 * test/integration/replica-isolation.test.ts; these are the races and the foreign network, which a test cannot bring
 * about on an engine other tests share.
 */
function engine(listed: object[][], create: () => Promise<{ id: string }>, bridge: object | null = {}) {
  const listNetworks = vi.fn(async () => listed.shift() ?? []);
  const createNetwork = vi.fn(create);
  const noSuchNetwork = (name: string) =>
    Promise.reject(Object.assign(new Error(`network ${name} not found`), { statusCode: 404 }));
  const getNetwork = (name: string) => ({
    inspect: async () => (name === 'bridge' && bridge ? { Options: bridge } : noSuchNetwork(name)),
  });
  return {
    docker: { getNetwork, listNetworks, createNetwork } as unknown as Docker,
    listNetworks,
    createNetwork,
  };
}

describe('the network replicas join', () => {
  it("is Docker's default bridge, when the engine keeps its containers apart", async () => {
    const { docker, listNetworks } = engine([], conflict, ISOLATED);
    expect(await replicaNetwork(docker)).toBe('bridge');
    expect(listNetworks).not.toHaveBeenCalled();
  });

  it("is else Berth's labelled network without inter-container traffic, when there is one", async () => {
    const { docker, createNetwork, listNetworks } = engine(
      [
        [
          { Id: 'open', Options: {} },
          { Id: 'n1', Options: ISOLATED },
        ],
      ],
      conflict,
    );
    expect(await replicaNetwork(docker)).toBe('n1');
    expect(listNetworks).toHaveBeenCalledWith({
      filters: { label: ['berth.network=apps'] },
      abortSignal: expect.any(AbortSignal),
    });
    expect(createNetwork).not.toHaveBeenCalled();
  });

  it("is Berth's on an engine without a default bridge", async () => {
    const { docker } = engine([[{ Id: 'n1', Options: ISOLATED }]], conflict, null);
    expect(await replicaNetwork(docker)).toBe('n1');
  });

  it('is made, isolated and labelled, when there is none', async () => {
    const { docker, createNetwork } = engine([[]], async () => ({ id: 'made' }));
    expect(await replicaNetwork(docker)).toBe('made');
    expect(createNetwork).toHaveBeenCalledWith({
      Name: APPS_NETWORK,
      CheckDuplicate: true,
      Driver: 'bridge',
      Options: ISOLATED,
      Labels: { 'berth.network': 'apps' },
      abortSignal: expect.any(AbortSignal),
    });
  });

  it('is the one another process made meanwhile, when the create finds the name taken', async () => {
    const { docker } = engine([[], [{ Id: 'theirs', Options: ISOLATED }]], conflict);
    expect(await replicaNetwork(docker)).toBe('theirs');
  });

  it("is refused when the name is taken by a network that is not Berth's", async () => {
    const { docker } = engine([[]], conflict);
    await expect(replicaNetwork(docker)).rejects.toThrow(
      `a Docker network named ${APPS_NETWORK} exists that is not Berth's isolated apps network; remove it ("docker network rm ${APPS_NETWORK}") and Berth makes its own`,
    );
  });
});
