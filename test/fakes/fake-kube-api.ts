import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ClusterScope } from '../../functions/adapters/eks/cluster-scope.ts';
import { writeSelfSignedCertificate } from '../../functions/adapters/registry/self-signed-certificate.ts';
import { DEFAULT_SCOPE, refusalOf } from './kube-rbac.ts';

/** Why Kubernetes stopped a pod, as its DisruptionTarget condition says. */
type Disruption = { reason: string; message: string };

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
  '/apis/policy/v1': [{ name: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', namespaced: true }],
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

type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
    resourceVersion?: string;
    /** A Deployment's: raised by each change of its spec, as the API server does. */
    generation?: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
};

interface PodTemplate {
  metadata: { labels: Record<string, string>; finalizers?: string[] };
  spec: { containers: { image: string; ports: { containerPort: number }[]; resources: unknown }[] };
}

/**
 * How the fake cluster treats an image: `crashloop` in its name never gets ready (its container restarts),
 * `stuck` makes the Deployment miss its progress deadline; anything else runs and gets ready at once.
 */
const behaviour = (image: string) =>
  image.includes('crashloop')
    ? 'crashloop'
    : image.includes('unpullable')
      ? 'unpullable'
      : image.includes('stuck')
        ? 'stuck'
        : 'ready';

/** A container as the kubelet reports it, by what its image does. */
function containerStatus(kind: ReturnType<typeof behaviour>, image: string, at: string) {
  if (kind === 'crashloop')
    return { name: 'app', ready: false, restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } } };
  if (kind === 'unpullable')
    return {
      name: 'app',
      ready: false,
      restartCount: 0,
      state: { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` } },
    };
  return { name: 'app', ready: kind === 'ready', restartCount: 0, state: { running: { startedAt: at } } };
}

/**
 * An in-process stand-in for a Kubernetes API server, recording every request exactly as it arrived and refusing (403)
 * what the control plane's access would not allow — its RBAC, then its admission policy (kube-rbac.ts): discovery,
 * server-side apply, lists, deletes, merge patches (finalizers, annotations), pod logs and the metrics API — with a
 * small simulation of the Deployment controller (pods for the template's revision; old ones terminate, held by their
 * finalizers, once the new ones are ready; through a grace, where `holdGraces()` asks for one; its status, with the
 * generation it observed, behind the applied spec while `holdController()` holds it) and of the load balancer
 * controller (Ingresses show its load balancer once it is made), so a reconciler can be driven through rollouts against
 * it. Callers are the default install's Lambdas unless `addInstall` gave their token to another install, whose
 * admission policy then holds on the cluster too.
 */
export async function startFakeKubeApi() {
  const requests: RecordedRequest[] = [];
  const installs = new Map<string, ClusterScope>();
  const objects = new Map<string, KubeObject>();
  let version = 0;
  let podSerial = 0;
  let loadBalancerHostname: string | undefined;
  /** Where it stops answering: before the headers, or after them and the start of the body. */
  let silent: 'before headers' | 'mid-body' | undefined;
  let failing: { status: ContentfulStatusCode; left: number } | undefined;
  /** Lines pods wrote after their first two, by pod path, each with its timestamp. */
  const said = new Map<string, string[]>();
  const now = () => new Date().toISOString();
  const podsIn = (namespace?: string) =>
    [...objects.entries()]
      .filter(
        ([path]) => path.includes('/pods/') && (!namespace || path.includes(`/namespaces/${namespace}/`)),
      )
      .map(([, pod]) => pod);
  const podPath = (namespace: string, name: string) => `/api/v1/namespaces/${namespace}/pods/${name}`;
  /** Whether a deleted pod's container runs on through its grace, until `endGraces()`: by default it ends at once. */
  let gracesHeld = false;
  /** The ends of the pods deleted while graces were held, each ending its pod's container and deletion. */
  let graces: (() => void)[] = [];
  /** Whether the Deployment controller has stopped looking, until `syncController()`: its status then lags. */
  let controllerHeld = false;
  /** The Deployments applied while it was held, by path: rolled out at `syncController()`. */
  const unsynced = new Set<string>();
  /**
   * A pod's container ends with `exitCode`: deleted (a rollout, scale-in or the Deployment's deletion), by default
   * with a SIGTERM it does not catch, as many apps' servers do not; or, not `deleted`, ended by the kubelet (a node
   * failure, an eviction for its node's pressure), which leaves the pod listed, Failed, until it is deleted. A
   * `disruption` is Kubernetes' own stop, stated as the pod's DisruptionTarget condition. A pod deleted while graces
   * are held keeps running, ready as the kubelet still reports it, until its grace ends.
   */
  const terminate = (
    pod: KubeObject,
    {
      exitCode = 143,
      reason = exitCode === 0 ? 'Completed' : 'Error',
      deleted = true,
      disruption,
    }: { exitCode?: number; reason?: string; deleted?: boolean; disruption?: Disruption } = {},
  ) => {
    if (pod.metadata.deletionTimestamp) return;
    const status = pod.status as {
      containerStatuses: Record<string, unknown>[];
      phase: string;
      conditions: Record<string, unknown>[];
    };
    if (disruption) status.conditions.push({ type: 'DisruptionTarget', status: 'True', ...disruption });
    const end = () => {
      if (ended(pod)) return;
      const state = status.containerStatuses[0]?.state as { running?: { startedAt: string } } | undefined;
      const started = state?.running?.startedAt;
      status.containerStatuses = [
        {
          ...status.containerStatuses[0],
          ready: false,
          state: { terminated: { exitCode, reason, startedAt: started ?? now(), finishedAt: now() } },
        },
      ];
      status.phase = exitCode === 0 ? 'Succeeded' : 'Failed';
    };
    const remove = () => {
      if (!pod.metadata.finalizers?.length)
        objects.delete(podPath(pod.metadata.namespace ?? '', pod.metadata.name));
    };
    if (deleted && gracesHeld) {
      pod.metadata.deletionTimestamp = now();
      graces.push(() => {
        end();
        remove();
      });
      return;
    }
    end();
    if (!deleted) return;
    pod.metadata.deletionTimestamp = now();
    remove();
  };
  /** Whether the pod's container has ended for good: the ReplicaSet counts it no more and starts another. */
  const ended = (pod: KubeObject) => {
    const { phase } = pod.status as { phase: string };
    return phase === 'Failed' || phase === 'Succeeded';
  };
  const newPod = (namespace: string, deployment: string, template: PodTemplate): KubeObject => {
    const container = template.spec.containers[0];
    const kind = behaviour(container?.image ?? '');
    const at = now();
    podSerial += 1;
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${deployment}-${podSerial}`,
        namespace,
        labels: template.metadata.labels,
        finalizers: template.metadata.finalizers ?? [],
        creationTimestamp: at,
        resourceVersion: String(++version),
      },
      spec: { containers: template.spec.containers.map((c) => ({ ...c, name: 'app' })) },
      status: {
        phase: 'Running',
        podIP: `10.64.${Math.floor(podSerial / 250)}.${podSerial % 250}`,
        startTime: at,
        conditions: [{ type: 'Ready', status: kind === 'ready' ? 'True' : 'False' }],
        containerStatuses: [containerStatus(kind, container?.image ?? '', at)],
      },
    };
  };
  /**
   * The Deployment controller, in one step: the template's pods up to `replicas`; old pods go once it is ready, or
   * at once when it is scaled to zero.
   */
  const rollOut = (deployment: KubeObject) => {
    const { namespace = '', name } = deployment.metadata;
    const spec = deployment.spec as { replicas: number; template: PodTemplate };
    const revision = spec.template.metadata.labels['berth.dev/revision'];
    const mine = podsIn(namespace).filter(
      (p) => p.metadata.labels?.['berth.dev/app'] === name && !p.metadata.deletionTimestamp && !ended(p),
    );
    const current = mine.filter((p) => p.metadata.labels?.['berth.dev/revision'] === revision);
    for (const extra of current.slice(spec.replicas)) terminate(extra);
    for (let i = current.length; i < spec.replicas; i++) {
      const pod = newPod(namespace, name, spec.template);
      objects.set(podPath(namespace, pod.metadata.name), pod);
    }
    const kind = behaviour(spec.template.spec.containers[0]?.image ?? '');
    // Scaled to zero, every ReplicaSet of the Deployment is: the old one's pods go too, ready or not.
    if (kind === 'ready' || spec.replicas === 0) {
      for (const old of mine.filter((p) => !current.includes(p))) terminate(old);
    }
    deployment.status = {
      observedGeneration: deployment.metadata.generation,
      conditions: [
        kind === 'stuck' || kind === 'unpullable'
          ? { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }
          : { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' },
      ],
    };
  };

  const app = new Hono();
  app.use('*', async (c, next) => {
    const text = c.req.method === 'GET' || c.req.method === 'DELETE' ? '' : await c.req.text();
    const request: RecordedRequest = {
      method: c.req.method,
      path: c.req.path,
      query: c.req.query(),
      contentType: c.req.header('content-type'),
      authorization: c.req.header('authorization'),
      body: text ? JSON.parse(text) : undefined,
    };
    requests.push(request);
    if (silent === 'before headers') return new Promise<Response>(() => {});
    if (silent === 'mid-body') {
      const start = new TextEncoder().encode('{"items":[');
      const stalled = new ReadableStream({ start: (controller) => controller.enqueue(start) });
      return new Response(stalled, { headers: { 'content-type': 'application/json' } });
    }
    if (failing && failing.left > 0) {
      failing.left -= 1;
      const { status } = failing;
      return c.json(
        { kind: 'Status', code: status, message: `the fake API server answers ${status}` },
        status,
      );
    }
    // As the API server authorizes and admits Berth's Lambdas' requests.
    const caller = installs.get(request.authorization ?? '') ?? DEFAULT_SCOPE;
    const refused = refusalOf(request, objects.has(c.req.path), caller, [
      DEFAULT_SCOPE,
      ...installs.values(),
    ]);
    if (refused) return c.json({ kind: 'Status', code: 403, reason: 'Forbidden', message: refused }, 403);
    await next();
  });
  for (const [group, resources] of Object.entries(RESOURCES)) {
    app.get(group, (c) =>
      c.json({
        kind: 'APIResourceList',
        groupVersion: group.replace(/^\/apis?\//, ''),
        resources: resources.map((r) => ({
          ...r,
          singularName: '',
          verbs: ['get', 'list', 'patch', 'delete'],
        })),
      }),
    );
  }
  const list = (kind: string, items: KubeObject[]) =>
    ({
      kind: `${kind}List`,
      apiVersion: 'v1',
      metadata: { resourceVersion: String(version) },
      items,
    }) as const;
  /** Namespaces with every `key=value` of a label selector. */
  app.get('/api/v1/namespaces', (c) => {
    const wanted = (c.req.query('labelSelector') ?? '')
      .split(',')
      .filter(Boolean)
      .map((pair) => pair.split('='));
    const namespaces = [...objects.entries()]
      .filter(([path]) => /^\/api\/v1\/namespaces\/[^/]+$/.test(path))
      .map(([, namespace]) => namespace)
      .filter((namespace) => wanted.every(([key = '', value]) => namespace.metadata.labels?.[key] === value));
    return c.json(list('Namespace', namespaces));
  });
  app.get('/api/v1/pods', (c) => c.json(list('Pod', podsIn())));
  app.get('/api/v1/namespaces/:namespace/pods', (c) => c.json(list('Pod', podsIn(c.req.param('namespace')))));
  /** The objects under a namespaced collection's path, e.g. `/apis/apps/v1/namespaces/acme/deployments`. */
  const under = (collection: string) =>
    [...objects.entries()].filter(([path]) => path.startsWith(`${collection}/`)).map(([, o]) => o);
  app.get('/apis/apps/v1/namespaces/:namespace/deployments', (c) =>
    c.json(list('Deployment', under(c.req.path))),
  );
  app.get('/apis/networking.k8s.io/v1/namespaces/:namespace/ingresses', (c) =>
    c.json(
      list(
        'Ingress',
        // The load balancer controller's part: once it has made the load balancer, every Ingress shows it.
        under(c.req.path).map((i) => ({
          ...i,
          status: {
            loadBalancer: loadBalancerHostname ? { ingress: [{ hostname: loadBalancerHostname }] } : {},
          },
        })),
      ),
    ),
  );
  app.get('/api/v1/namespaces/:namespace/pods/:name/log', (c) => {
    const pod = objects.get(podPath(c.req.param('namespace'), c.req.param('name')));
    if (!pod) return c.json({ kind: 'Status', code: 404, reason: 'NotFound' }, 404);
    const at = pod.metadata.creationTimestamp;
    if (c.req.query('previous') === 'true') {
      // Only a container that restarted has a previous one; the kubelet answers 400 otherwise.
      const statuses = (pod.status as { containerStatuses: { restartCount: number }[] }).containerStatuses;
      if (!statuses[0]?.restartCount) return c.json({ kind: 'Status', code: 400, reason: 'BadRequest' }, 400);
      return c.text(`${at} ${pod.metadata.name} cannot reach the database\n`);
    }
    // The whole log every time, as a kubelet whose log holds no line older than sinceSeconds asks.
    const later = said.get(podPath(c.req.param('namespace'), c.req.param('name'))) ?? [];
    return c.text(
      [`${at} ${pod.metadata.name} listening`, `${at} ${pod.metadata.name} ready`, ...later]
        .map((line) => `${line}\n`)
        .join(''),
    );
  });
  app.get('/apis/metrics.k8s.io/v1beta1/namespaces/:namespace/pods', (c) =>
    c.json({
      kind: 'PodMetricsList',
      apiVersion: 'metrics.k8s.io/v1beta1',
      metadata: {},
      items: podsIn(c.req.param('namespace'))
        .filter((p) => !p.metadata.deletionTimestamp)
        .map((p) => ({
          metadata: { name: p.metadata.name, namespace: p.metadata.namespace },
          timestamp: now(),
          // As a metrics-server scraping every 30 s writes its window: a Go duration.
          window: '30.047s',
          // As metrics-server writes usage: nanocores and KiB (125m and 128Mi).
          containers: [{ name: 'app', usage: { cpu: '125000000n', memory: '131072Ki' } }],
        })),
    }),
  );
  app.patch('*', (c) => {
    const request = requests.at(-1);
    const body = request?.body as KubeObject;
    const existing = objects.get(c.req.path);
    if (request?.contentType === 'application/merge-patch+json') {
      if (!existing) return c.json({ kind: 'Status', code: 404, reason: 'NotFound' }, 404);
      if (
        body.metadata.resourceVersion &&
        body.metadata.resourceVersion !== existing.metadata.resourceVersion
      ) {
        return c.json({ kind: 'Status', code: 409, reason: 'Conflict' }, 409);
      }
      existing.metadata.finalizers = body.metadata.finalizers ?? existing.metadata.finalizers;
      if (body.metadata.annotations)
        existing.metadata.annotations = { ...existing.metadata.annotations, ...body.metadata.annotations };
      existing.metadata.resourceVersion = String(++version);
      if (existing.metadata.deletionTimestamp && !existing.metadata.finalizers?.length)
        objects.delete(c.req.path);
      return c.json(existing);
    }
    // As the API server does: nothing is made in a namespace that does not exist.
    const inNamespace = /\/namespaces\/([^/]+)\/./.exec(c.req.path)?.[1];
    if (inNamespace && !objects.has(`/api/v1/namespaces/${inNamespace}`)) {
      return c.json(
        { kind: 'Status', code: 404, reason: 'NotFound', message: `namespaces "${inNamespace}" not found` },
        404,
      );
    }
    // Annotations another field manager set stay (Berth's own apply never carries them).
    const annotations = { ...existing?.metadata.annotations, ...body.metadata.annotations };
    const specChanged = JSON.stringify(existing?.spec) !== JSON.stringify(body.spec);
    const applied: KubeObject = {
      ...body,
      metadata: {
        ...body.metadata,
        ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
        resourceVersion: String(++version),
        creationTimestamp: now(),
        ...(body.kind === 'Deployment'
          ? { generation: (existing?.metadata.generation ?? 0) + (specChanged ? 1 : 0) }
          : {}),
      },
      // An apply sets the spec; the status stays the controller's, as it last wrote it.
      ...(existing?.status ? { status: existing.status } : {}),
    };
    objects.set(c.req.path, applied);
    if (applied.kind === 'Deployment') {
      if (controllerHeld) unsynced.add(c.req.path);
      else rollOut(applied);
    }
    return c.json(applied);
  });
  app.delete('*', (c) => {
    const existing = objects.get(c.req.path);
    if (!existing) return c.json({ kind: 'Status', code: 404, reason: 'NotFound' }, 404);
    objects.delete(c.req.path);
    // A namespace goes with everything in it (at once here; a real cluster takes its time, showing Terminating).
    if (existing.kind === 'Namespace') {
      for (const path of objects.keys()) {
        if (path.includes(`/namespaces/${existing.metadata.name}/`)) objects.delete(path);
      }
    }
    if (existing.kind === 'Deployment') {
      for (const pod of podsIn(existing.metadata.namespace)) {
        if (pod.metadata.labels?.['berth.dev/app'] === existing.metadata.name) terminate(pod);
      }
    }
    return c.json({ kind: 'Status', status: 'Success' });
  });
  const tls = selfSignedCertificate();
  const server = serve({
    fetch: app.fetch,
    hostname: '127.0.0.1',
    port: 0,
    createServer,
    serverOptions: { key: tls.key, cert: tls.cert },
  });
  await new Promise((resolve) => server.once('listening', resolve));
  let connections = 0;
  let open = 0;
  server.on('secureConnection', (socket) => {
    connections += 1;
    open += 1;
    socket.once('close', () => {
      open -= 1;
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `https://127.0.0.1:${port}`;
  /** The server's certificate as a kubeconfig's certificate-authority-data (base64 PEM). */
  const caData = Buffer.from(tls.cert).toString('base64');
  return {
    url,
    caData,
    requests,
    /** What the fake cluster holds, by API path. */
    objects,
    /**
     * Every live pod of an app ends as `how` says (terminate): a node failure ends them (not `deleted`), a drain's
     * eviction deletes them, each with its `disruption` where Kubernetes states one.
     */
    endPods(namespace: string, app: string, how: Parameters<typeof terminate>[1]) {
      for (const pod of podsIn(namespace)) {
        if (pod.metadata.labels?.['berth.dev/app'] === app && !ended(pod)) terminate(pod, how);
      }
    },
    /** From now on a deleted pod runs on through its grace (terminate), until `endGraces()`. */
    holdGraces() {
      gracesHeld = true;
    },
    /**
     * From now on the Deployment controller does not look, as when it lags behind the API server: an applied
     * Deployment keeps the status (and pods) of the template before, until `syncController()`.
     */
    holdController() {
      controllerHeld = true;
    },
    /** The controller looks again: each Deployment applied meanwhile rolls out, its status for its new generation. */
    syncController() {
      controllerHeld = false;
      for (const path of unsynced) {
        const deployment = objects.get(path);
        if (deployment) rollOut(deployment);
      }
      unsynced.clear();
    },
    /** The graces of the pods deleted since `holdGraces()` end: their containers exit, and they go. */
    endGraces() {
      for (const end of graces) end();
      graces = [];
      gracesHeld = false;
    },
    /** Another install runs on the cluster: requests with `authorization` are its Lambdas', as its RBAC allows. */
    addInstall(authorization: string, scope: ClusterScope) {
      installs.set(authorization, scope);
    },
    /** The load balancer controller has made the ingress group's load balancer, answering at `hostname`. */
    provisionLoadBalancer(hostname: string) {
      loadBalancerHostname = hostname;
    },
    /** The cluster `name`, in the VPC `vpcId`, as DescribeCluster shows it when this is its API server. */
    describedAs(name: string, vpcId: string) {
      return {
        cluster: {
          name,
          endpoint: url,
          certificateAuthority: { data: caData },
          resourcesVpcConfig: { vpcId },
        },
      };
    },
    /** The pod at `namespace`/`name` writes `line` to its log, now. */
    say(namespace: string, name: string, line: string) {
      const path = podPath(namespace, name);
      said.set(path, [...(said.get(path) ?? []), `${now()} ${name} ${line}`]);
    },
    /** How many TLS connections clients have opened to it. */
    connections: () => connections,
    /** How many of them are still open. */
    openConnections: () => open,
    /** Its next `times` requests are answered `status`, as by an API server busy (429) or failing (5xx). */
    answerNext(status: ContentfulStatusCode, times: number) {
      failing = { status, left: times };
    },
    /**
     * From now on it takes requests and answers none, as a connection gone silent; `midBody`, it sends each answer's
     * headers and the start of its body, then nothing more.
     */
    goSilent(midBody = false) {
      silent = midBody ? 'mid-body' : 'before headers';
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as HttpsServer).closeAllConnections();
      }),
  };
}
