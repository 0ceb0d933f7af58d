import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { replicaOf } from '../../../functions/adapters/eks/eks-runtime.ts';
import { LABEL } from '../../../functions/adapters/eks/manifests.ts';

const STARTED = '2026-11-22T10:00:00Z';

/** A ready pod of acme's app `web`, its container running since STARTED; `deleting` adds a deletion under way. */
function servingPod(deleting?: { at: string; exitCode?: number }): V1Pod {
  const terminated = deleting?.exitCode !== undefined;
  return {
    metadata: {
      name: 'web-7d9f8c6b5d-x2x9q',
      namespace: 'berth-acme',
      labels: {
        [LABEL.tenant]: 'acme',
        [LABEL.app]: 'web',
        [LABEL.appUid]: 'app_0123456789abcdef',
        [LABEL.revision]: '3',
      },
      creationTimestamp: new Date(STARTED),
      ...(deleting ? { deletionTimestamp: new Date(deleting.at) } : {}),
    },
    spec: {
      containers: [
        {
          name: 'app',
          ports: [{ containerPort: 8080 }],
          resources: { requests: { cpu: '250m', memory: '512Mi' } },
        },
      ],
    },
    status: {
      phase: 'Running',
      podIP: '10.0.3.7',
      startTime: new Date(STARTED),
      // The kubelet reports it ready until its container ends: only the endpoints leave it out once it is deleting.
      conditions: [{ type: 'Ready', status: terminated ? 'False' : 'True' }],
      containerStatuses: [
        {
          name: 'app',
          image: 'registry.example.com/acme/web:3',
          imageID: '',
          ready: !terminated,
          restartCount: 0,
          state: terminated
            ? {
                terminated: {
                  exitCode: deleting.exitCode ?? 0,
                  startedAt: new Date(STARTED),
                  finishedAt: new Date(deleting.at),
                },
              }
            : { running: { startedAt: new Date(STARTED) } },
        },
      ],
    },
  };
}

describe('an EKS pod as a replica', () => {
  it('is read field by field from the pod Berth applied', () => {
    expect(replicaOf(servingPod())).toEqual({
      id: 'berth-acme/web-7d9f8c6b5d-x2x9q',
      tenantId: 'acme',
      app: 'web',
      appUid: 'app_0123456789abcdef',
      revision: 3,
      // Its pod template carries no generation (scaling must not replace pods) and a Deployment's pods no slot.
      generation: 0,
      slot: 0,
      state: 'running',
      // What its container asks for (on nodes, what it is billed by).
      cpu: 0.25,
      memoryMiB: 512,
      createdAt: '2026-11-22T10:00:00.000Z',
      startedAt: '2026-11-22T10:00:00.000Z',
      stoppedAt: null,
      exitCode: null,
      endpoint: { host: '10.0.3.7', port: 8080 },
      ready: true,
      restarts: 0,
    });
    // A pod without its tenant's, app's or incarnation's label is none of Berth's.
    for (const label of [LABEL.tenant, LABEL.app, LABEL.appUid]) {
      const pod = servingPod();
      pod.metadata = { ...pod.metadata, labels: { ...pod.metadata?.labels, [label]: '' } };
      expect(replicaOf(pod)).toBeUndefined();
    }
  });

  it('is stopping while its deletion waits for its container, and stopped on request once it has ended', () => {
    expect(replicaOf(servingPod())).toMatchObject({
      state: 'running',
      ready: true,
      endpoint: { port: 8080 },
    });
    expect(replicaOf(servingPod())?.stopping).toBeUndefined();

    const deleting = replicaOf(servingPod({ at: '2026-11-22T10:05:00Z' }));
    expect(deleting).toMatchObject({ state: 'running', stopping: true, stoppedAt: null });
    expect(deleting?.stopRequested).toBeUndefined();

    const ended = replicaOf(servingPod({ at: '2026-11-22T10:05:00Z', exitCode: 143 }));
    expect(ended).toMatchObject({ state: 'exited', exitCode: 143, stopRequested: true, endpoint: null });
    expect(ended?.stopping).toBeUndefined();
  });
});
