import { describe, expect, it } from 'vitest';
import {
  autoscaleTo,
  createApp,
  deleteApp,
  getAppRecord,
  restartApp,
  scaleApp,
  startApp,
  stopApp,
  updateApp,
} from '../../../functions/core/apps.ts';
import { createTenant, updateTenant } from '../../../functions/core/tenants.ts';
import { fakeCoreDeps } from '../../fakes/core-deps.ts';

const spec = { image: 'registry.example.com/acme/web:1', cpu: 0.25, memory: 512, port: 8080 };

describe('the reconcile pass a write asks for', () => {
  it("is asked for an app whose desired state changed, for each of a tenant's apps when its status changes, and for nothing else", async () => {
    const deps = await fakeCoreDeps();
    const asked: string[] = [];
    deps.appChanged = (app) => asked.push(`${app.tenantId}/${app.name}`);
    const askedSince = () => asked.splice(0).sort();
    await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
    await createApp(deps, 'acme', { name: 'web', ...spec });
    await createApp(deps, 'acme', { name: 'api', ...spec });
    expect(askedSince()).toEqual(['acme/api', 'acme/web']);
    await scaleApp(deps, 'acme', 'web', 2);
    await stopApp(deps, 'acme', 'api');
    expect(askedSince()).toEqual(['acme/api', 'acme/web']);
    await autoscaleTo(deps, await getAppRecord(deps, 'acme', 'web'), 3, { reason: 'CPU above its target' });
    expect(askedSince()).toEqual(['acme/web']);
    await scaleApp(deps, 'acme', 'web', 2);
    expect(askedSince()).toEqual(['acme/web']);

    // Writes that leave every app's desired state as it was ask for no pass: the next tick's is enough.
    await scaleApp(deps, 'acme', 'web', 2);
    await updateApp(deps, 'acme', 'web', {});
    await startApp(deps, 'acme', 'web'); // not stopped
    await updateTenant(deps, 'acme', { name: 'Acme Inc.', plan: 'free' });
    expect(askedSince()).toEqual([]);

    // A suspension stops every app's replicas and a reactivation starts them again: each app's pass, a stopped one's
    // too, decides what that means for it.
    await updateTenant(deps, 'acme', { status: 'suspended' });
    expect(askedSince()).toEqual(['acme/api', 'acme/web']);
    await updateTenant(deps, 'acme', { name: 'Acme' });
    expect(askedSince()).toEqual([]);
    await updateTenant(deps, 'acme', { status: 'active' });
    expect(askedSince()).toEqual(['acme/api', 'acme/web']);
    await startApp(deps, 'acme', 'api');
    await restartApp(deps, 'acme', 'web');
    expect(askedSince()).toEqual(['acme/api', 'acme/web']);
    // Its replicas stop, then the app goes.
    await deleteApp(deps, 'acme', 'api');
    expect(askedSince()).toEqual(['acme/api']);
  });
});
