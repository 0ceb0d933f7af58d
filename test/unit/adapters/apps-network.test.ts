import type Docker from 'dockerode';
import { describe, expect, it, vi } from 'vitest';
import { APPS_NETWORK, appsNetworkId } from '../../../functions/adapters/docker/apps-network.ts';

const ISOLATED = { 'com.docker.network.bridge.enable_icc': 'false' };
const conflict = () =>
  Promise.reject(
    Object.assign(new Error('network with name berth-apps already exists'), { statusCode: 409 }),
  );

/**
 * An engine whose labelled networks are `listed` (one answer per call, the last repeated) and whose create does
 * `create`. The real engine's part is in test/integration/replica-isolation.test.ts; these are the races and the
 * foreign network, which a test cannot bring about on an engine other tests share.
 */
function engine(listed: object[][], create: () => Promise<{ id: string }>) {
  const listNetworks = vi.fn(async () => listed.shift() ?? []);
  const createNetwork = vi.fn(create);
  return { docker: { listNetworks, createNetwork } as unknown as Docker, listNetworks, createNetwork };
}

describe('the apps network', () => {
  it('is the labelled network without inter-container traffic, when there is one', async () => {
    const { docker, createNetwork, listNetworks } = engine(
      [
        [
          { Id: 'open', Options: {} },
          { Id: 'n1', Options: ISOLATED },
        ],
      ],
      conflict,
    );
    expect(await appsNetworkId(docker)).toBe('n1');
    expect(listNetworks).toHaveBeenCalledWith({ filters: { label: ['berth.network=apps'] } });
    expect(createNetwork).not.toHaveBeenCalled();
  });

  it('is made, isolated and labelled, when there is none', async () => {
    const { docker, createNetwork } = engine([[]], async () => ({ id: 'made' }));
    expect(await appsNetworkId(docker)).toBe('made');
    expect(createNetwork).toHaveBeenCalledWith({
      Name: APPS_NETWORK,
      CheckDuplicate: true,
      Driver: 'bridge',
      Options: ISOLATED,
      Labels: { 'berth.network': 'apps' },
    });
  });

  it('is the one another process made meanwhile, when the create finds the name taken', async () => {
    const { docker } = engine([[], [{ Id: 'theirs', Options: ISOLATED }]], conflict);
    expect(await appsNetworkId(docker)).toBe('theirs');
  });

  it("is refused when the name is taken by a network that is not Berth's", async () => {
    const { docker } = engine([[]], conflict);
    await expect(appsNetworkId(docker)).rejects.toThrow(
      `a Docker network named ${APPS_NETWORK} exists that is not Berth's isolated apps network; remove it ("docker network rm ${APPS_NETWORK}") and Berth makes its own`,
    );
  });
});
