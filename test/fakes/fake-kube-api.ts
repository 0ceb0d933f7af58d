import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { writeSelfSignedCertificate } from '../../functions/adapters/registry/self-signed-certificate.ts';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  authorization: string | undefined;
  body: unknown;
}

const RESOURCES: Record<string, { name: string; kind: string; namespaced: boolean }[]> = {
  '/api/v1': [
    { name: 'namespaces', kind: 'Namespace', namespaced: false },
    { name: 'resourcequotas', kind: 'ResourceQuota', namespaced: true },
    { name: 'limitranges', kind: 'LimitRange', namespaced: true },
    { name: 'services', kind: 'Service', namespaced: true },
    { name: 'pods', kind: 'Pod', namespaced: true },
  ],
  '/apis/apps/v1': [{ name: 'deployments', kind: 'Deployment', namespaced: true }],
  '/apis/networking.k8s.io/v1': [
    { name: 'networkpolicies', kind: 'NetworkPolicy', namespaced: true },
    { name: 'ingresses', kind: 'Ingress', namespaced: true },
  ],
};

/** A self-signed certificate for 127.0.0.1, made with openssl: the fake server speaks TLS, as a real one does. */
function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'berth-kube-tls-'));
  writeSelfSignedCertificate({
    keyPath: join(dir, 'key.pem'),
    certificatePath: join(dir, 'cert.pem'),
    subject: '/CN=fake-kube-api',
    days: 1,
    subjectAltName: 'IP:127.0.0.1',
  });
  return {
    key: readFileSync(join(dir, 'key.pem'), 'utf8'),
    cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
  };
}

/**
 * An in-process stand-in for a Kubernetes API server: discovery, server-side apply (answers with the applied
 * object) and pod lists, recording every request exactly as it arrived.
 */
export async function startFakeKubeApi(pods: Record<string, unknown[]> = {}) {
  const requests: RecordedRequest[] = [];
  const app = new Hono();
  app.use('*', async (c, next) => {
    const text = c.req.method === 'GET' ? '' : await c.req.text();
    requests.push({
      method: c.req.method,
      path: c.req.path,
      query: c.req.query(),
      contentType: c.req.header('content-type'),
      authorization: c.req.header('authorization'),
      body: text ? JSON.parse(text) : undefined,
    });
    await next();
  });
  for (const [group, resources] of Object.entries(RESOURCES)) {
    app.get(group, (c) =>
      c.json({
        kind: 'APIResourceList',
        groupVersion: group.replace(/^\/apis?\//, ''),
        resources: resources.map((r) => ({ ...r, singularName: '', verbs: ['get', 'list', 'patch'] })),
      }),
    );
  }
  app.get('/api/v1/namespaces/:namespace/pods', (c) =>
    c.json({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: pods[c.req.param('namespace')] ?? [] }),
  );
  app.patch('*', async (c) => c.json(requests.at(-1)?.body ?? {}));
  const tls = selfSignedCertificate();
  const server = serve({
    fetch: app.fetch,
    hostname: '127.0.0.1',
    port: 0,
    createServer,
    serverOptions: { key: tls.key, cert: tls.cert },
  });
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    /** The server's certificate as a kubeconfig's certificate-authority-data (base64 PEM). */
    caData: Buffer.from(tls.cert).toString('base64'),
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
