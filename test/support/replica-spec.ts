import type { ReplicaSpec } from '../../functions/core/ports.ts';

/** A replica of revision 1 of acme's web app, as a reconciler asks a runtime to start it: the test image, smallest. */
export const WEB_REPLICA: ReplicaSpec = {
  tenantId: 'acme',
  app: 'web',
  appUid: 'app_0mx4gr51j0000000000000001',
  revision: 1,
  generation: 1,
  slot: 0,
  image: 'berth-test/web:1',
  cpu: 0.25,
  memory: 512,
  port: 8080,
  command: null,
  env: {},
};
