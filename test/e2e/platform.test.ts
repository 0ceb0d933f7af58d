import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { lineTime } from '../../functions/core/log-merge.ts';
import { type DeploymentStatus, TERMINAL_DEPLOYMENT_STATUSES } from '../../schemas/app.ts';
import { durationMs } from '../../schemas/instance.ts';
import { dockerCli, labelledContainers } from '../support/docker-cli.ts';
import { eventually, ingressGet } from '../support/ingress-client.ts';
import { clientFor, untilAppGone } from '../support/local-api.ts';
import {
  fetchFrom,
  type PlatformEnv,
  platformEnv,
  platformTable,
  runPlatform,
} from '../support/platform-process.ts';
import { rawExchange, upgradeThroughIngress } from '../support/raw-http.ts';
import { registryHttp } from '../support/registry-http.ts';
import { buildTestImage } from '../support/test-image.ts';

const TICK_MS = 2000;
/** How long the ingress waits on a silent replica here: short, so that a test waits it out, yet long for any answer. */
const IDLE_SECONDS = 5;
/** The smallest Fargate size, on the port the test image serves. */
const SIZE = { cpu: 0.25, memory: 512, port: 8080 };

type Platform = Awaited<ReturnType<typeof runPlatform>>;
type Json = Record<string, unknown>;

/**
 * The whole local platform as a user meets it: `npm start`'s process, the real docker CLI pushing to the platform
 * registry through Berth's token service, apps served through the ingress.
 */
describe('the local platform (npm start, docker CLI, registry, ingress)', { timeout: 120_000 }, () => {
  let env: PlatformEnv;
  let platform: Platform;
  let client: ReturnType<typeof clientFor>;
  let acmeKey: string;
  let betaKey: string;
  let registry: string;
  /** The digest the first test pushes. */
  let digest: string;
  const acmeDocker = dockerCli();
  const betaDocker = dockerCli();

  const call = (method: string, path: string, body?: unknown, key = acmeKey) =>
    client.call(method, path, key, body);
  const web = () => ingressGet(env.ingressPort, 'web.acme.localhost');
  const app = async (name = 'web') => (await call('GET', `/v1/apps/${name}`)).json as Json;
  const acmeContainers = (state?: 'running') =>
    labelledContainers(env.env.BERTH_TABLE_NAME ?? '', { 'berth.tenant': 'acme', 'berth.app': 'web' }).filter(
      (id) => !state || dockerState(id) === 'running',
    );
  const revisionOf = (id: string) =>
    acmeDocker.run(['inspect', '-f', '{{index .Config.Labels "berth.revision"}}', id]).output.trim();
  const dockerState = (id: string) =>
    acmeDocker.run(['inspect', '-f', '{{.State.Status}}', id]).output.trim();

  async function login(cli: ReturnType<typeof dockerCli>, key: string) {
    const token = await call('POST', '/v1/registry/token', undefined, key);
    expect(token.status).toBe(200);
    const {
      registry: host,
      username,
      password,
    } = token.json as { registry: string; username: string; password: string };
    expect(host).toBe(registry);
    cli.ok(['login', host, '-u', username, '--password-stdin'], password);
  }

  async function deploymentOutcome(id: string, name = 'web') {
    return eventually(`deployment ${id} to finish`, async () => {
      const res = await call('GET', `/v1/apps/${name}/deployments/${id}`);
      if (res.status !== 200) throw new Error(`GET deployment: ${res.status} ${res.text}`);
      return TERMINAL_DEPLOYMENT_STATUSES.includes(res.json.status as DeploymentStatus)
        ? res.json
        : undefined;
    });
  }

  /** Creates app `name` of the pushed image running `command`, and waits until its one replica is ready. */
  async function readyApp(name: string, command: string[]) {
    const created = await call('POST', '/v1/apps', {
      name,
      image: `${registry}/acme/web:v1`,
      ...SIZE,
      command,
    });
    expect(created.status, created.text).toBe(201);
    await eventually(`${name} to be ready`, async () =>
      (await app(name)).readyReplicas === 1 ? true : undefined,
    );
  }

  /** Hostnames answering through the ingress, over `n` requests. */
  async function hostnames(n: number) {
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      const res = await web();
      expect(res.status).toBe(200);
      seen.add(res.body.trim());
    }
    return seen;
  }

  beforeAll(async () => {
    env = await platformEnv({
      BERTH_TICK_MS: String(TICK_MS),
      BERTH_DEPLOYMENT_DEADLINE_SECONDS: '45',
      BERTH_APP_IDLE_TIMEOUT_SECONDS: String(IDLE_SECONDS),
    });
    platform = await runPlatform(env);
    registry = `127.0.0.1:${env.registryPort}`;
    client = clientFor(
      { request: (path, init) => fetchFrom(platform, `${env.api}${path}`, init) },
      platform.adminKey,
    );
    acmeKey = (await client.createTenant('acme')).key;
    betaKey = (await client.createTenant('beta')).key;
  });

  afterAll(async () => {
    if (!platform) return;
    for (const name of ['web', 'alias', 'chat', 'slow', 'mute', 'roll', 'probe'])
      await call('DELETE', `/v1/apps/${name}`).catch(() => undefined);
    await eventually('apps to be deleted', async () =>
      acmeContainers().length === 0 ? true : undefined,
    ).catch(() => undefined);
    // The names this run gave the test image in the engine's store (the image stays: its own tag holds it).
    acmeDocker.run([
      'rmi',
      `${registry}/acme/web:v1`,
      `${registry}/acme/web@${digest}`,
      `localhost:${env.registryPort}/acme/web@${digest}`,
      `${registry}/acme/old:v1`,
      `${registry}/acme/evil:1`,
    ]);
    expect(await platform.stop()).toBe(0);
  });

  it('pushes with docker login credentials from the API and deploys the pushed digest', async () => {
    await login(acmeDocker, acmeKey);
    const image = `${registry}/acme/web:v1`;
    acmeDocker.ok(['tag', inject('testImage'), image]);
    // As on ECR, a push goes only to a repository created through the API; docker shows why.
    const refused = acmeDocker.run(['push', image]);
    expect(refused.status).not.toBe(0);
    expect(refused.output).toContain(
      'denied: repository "web" does not exist; create it with POST /v1/repositories {"name":"web"} before pushing',
    );
    expect((await call('GET', '/v1/repositories')).json.items).toEqual([]);
    const repository = await call('POST', '/v1/repositories', { name: 'web' });
    expect(repository).toMatchObject({ status: 201, json: { name: 'web', uri: `${registry}/acme/web` } });
    const pushed = acmeDocker.ok(['push', image]);
    digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed)?.[1] ?? '';
    expect(digest).toMatch(/^sha256:/);
    // The engine forgets the names the push gave the image (its digest goes with the repository's last tag), as one
    // that never built it: the platform must pull it, with credentials of its own.
    acmeDocker.ok(['rmi', image]);
    expect(acmeDocker.run(['image', 'inspect', `${registry}/acme/web@${digest}`]).status).not.toBe(0);

    const images = await eventually('the push to be recorded', async () => {
      const res = await call('GET', '/v1/repositories/web/images');
      const items = (res.json?.items ?? []) as Json[];
      return items.length ? items : undefined;
    });
    expect(images).toEqual([expect.objectContaining({ digest, tags: ['v1'] })]);
    expect((images[0] as { size: number }).size).toBeGreaterThan(0);
    const repos = await call('GET', '/v1/repositories');
    expect(repos.json.items).toEqual([expect.objectContaining({ name: 'web', uri: `${registry}/acme/web` })]);

    const created = await call('POST', '/v1/apps', {
      name: 'web',
      image,
      ...SIZE,
      command: [
        'sh',
        '-c',
        'echo "hello from $(hostname)"; mkdir -p /www; hostname > /www/index.html; exec httpd -f -p 8080 -h /www',
      ],
      healthCheck: { path: '/', intervalSeconds: 2 },
    });
    expect(created.status, created.text).toBe(201);
    const revision = await call('GET', '/v1/apps/web/revisions/1');
    // Built here by Docker, for this machine's platform.
    const architecture = process.arch === 'x64' ? 'amd64' : process.arch;
    expect(revision.json).toMatchObject({
      image,
      imageDigest: digest,
      imagePlatforms: [`linux/${architecture}`],
    });

    const [first] = (await call('GET', '/v1/apps/web/deployments')).json.items as Json[];
    const deployment = await deploymentOutcome(first?.id as string);
    expect(deployment.status).toBe('succeeded');
    expect((await web()).status).toBe(200);
    expect(await app()).toMatchObject({ status: 'running', readyReplicas: 1 });
  });

  it('pulls an image by another of the registry’s names (localhost), with credentials for that name', async () => {
    const image = `localhost:${env.registryPort}/acme/web:v1`;
    const created = await call('POST', '/v1/apps', { name: 'alias', image, ...SIZE });
    expect(created.status, created.text).toBe(201);
    const [first] = (await call('GET', '/v1/apps/alias/deployments')).json.items as Json[];
    const deployment = await deploymentOutcome(first?.id as string, 'alias');
    expect(deployment, JSON.stringify(deployment)).toMatchObject({ status: 'succeeded' });
    expect((await ingressGet(env.ingressPort, 'alias.acme.localhost')).status).toBe(200);
    expect((await call('DELETE', '/v1/apps/alias')).status).toBe(202);
    await untilAppGone(client.call, acmeKey, 'alias');
  });

  it('scales to 3 replicas served round robin, and heals one killed outside Berth', async () => {
    expect((await call('POST', '/v1/apps/web/scale', { replicas: 3 })).status).toBe(200);
    await eventually('3 ready replicas', async () => ((await app()).readyReplicas === 3 ? true : undefined));
    expect((await hostnames(9)).size).toBe(3);

    const [victim] = acmeContainers('running');
    acmeDocker.ok(['kill', victim ?? '']);
    const killedAt = Date.now();
    // Docker's die event nudges the loop, so this does not wait for a tick; two ticks is the bound.
    await eventually(
      '3 ready replicas after a kill',
      async () => {
        const ready = (await app()).readyReplicas === 3 && acmeContainers('running').length === 3;
        return ready && !acmeContainers('running').includes(victim ?? '') ? true : undefined;
      },
      2 * TICK_MS + 5000,
    );
    expect(Date.now() - killedAt).toBeLessThan(2 * TICK_MS + 5000);
    expect((await hostnames(9)).size).toBe(3);

    const instances = await call('GET', '/v1/apps/web/instances');
    const running = (instances.json.items as Json[]).filter((i) => i.state === 'running');
    expect(running).toHaveLength(3);
    expect(running[0]).toMatchObject({ revision: 1, health: 'healthy', exitCode: null });
    // Killed through the engine by someone else: stopped outside Berth, not a failure of the app's.
    const events = (await call('GET', '/v1/apps/web/events')).json.items as Json[];
    expect(events.find((e) => e.type === 'replicaRemoved')).toMatchObject({
      message: expect.stringMatching(
        /^replica \d+ was stopped outside Berth: the engine sent its container SIGKILL /,
      ),
    });
    expect(events.filter((e) => e.type === 'replicaExited')).toEqual([]);
  });

  it('rejects a failing revision: deployment rolled back, no request dropped', async () => {
    let done = false;
    const statuses: number[] = [];
    const load = (async () => {
      while (!done) statuses.push((await web()).status);
    })();
    const deploy = await call('POST', '/v1/apps/web/deployments', {
      command: ['sh', '-c', 'echo boom; exit 1'],
    });
    expect(deploy.status).toBe(202);
    const outcome = await deploymentOutcome(deploy.json.id as string);
    done = true;
    await load;
    expect(outcome).toMatchObject({
      status: 'rolled_back',
      reason: expect.stringMatching(/^\d replicas failed .*; rolled back to revision 1 \(dep_\w+\)$/),
    });
    // Its replicas are gone from Docker, yet what they said before they exited is still shown.
    const logs = await call('GET', '/v1/apps/web/logs?tail=1');
    expect(logs.text.split('\n').some((line) => line.endsWith(' boom'))).toBe(true);
    expect(statuses.length).toBeGreaterThan(10);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    await eventually('the rollback to revision 1', async () => {
      const current = await app();
      return current.currentRevision === 1 && current.status === 'running' ? current : undefined;
    });
    expect((await hostnames(6)).size).toBe(3);
  });

  it('rolls back on request, stops and starts, restarts', async () => {
    const deployed = await call('POST', '/v1/apps/web/deployments', { env: { RELEASE: '3' } });
    expect(deployed).toMatchObject({ status: 202, json: { revision: 3 } });
    expect((await deploymentOutcome(deployed.json.id as string)).status).toBe('succeeded');
    // Without a revision, back to the one that went live before (1, where the platform's rollback took the app).
    const rollback = await call('POST', '/v1/apps/web/rollback');
    expect(rollback).toMatchObject({ status: 202, json: { revision: 1 } });
    expect((await deploymentOutcome(rollback.json.id as string)).status).toBe('succeeded');
    await eventually('only revision 1 to run', async () => {
      const running = acmeContainers('running').map(revisionOf);
      return running.length === 3 && running.every((r) => r === '1') ? true : undefined;
    });
    // On revision 1 already, a rollback to it would change nothing: 409, and no deployment.
    const again = await call('POST', '/v1/apps/web/rollback', { revision: 1 });
    expect(again).toMatchObject({ status: 409, json: { code: 'revision.current' } });

    expect((await call('POST', '/v1/apps/web/stop')).status).toBe(202);
    await eventually('the app to be stopped', async () => {
      const stopped = await app();
      return acmeContainers('running').length === 0 &&
        stopped.status === 'stopped' &&
        stopped.readyReplicas === 0
        ? true
        : undefined;
    });
    expect((await web()).status).toBe(503);

    expect((await call('POST', '/v1/apps/web/start')).status).toBe(202);
    await eventually('3 ready after start, serving', async () =>
      (await app()).readyReplicas === 3 && (await web()).status === 200 ? true : undefined,
    );

    const before = new Set(acmeContainers('running'));
    expect((await call('POST', '/v1/apps/web/restart')).status).toBe(202);
    await eventually('replicas replaced by a restart, all healthy', async () => {
      // The replaced ones stay in view, stopped, as ECS keeps stopped tasks for a while.
      const instances = (await call('GET', '/v1/apps/web/instances')).json.items as Json[];
      const healthy = instances.filter((i) => i.state === 'running' && i.health === 'healthy');
      return healthy.length === 3 &&
        instances.filter((i) => i.state !== 'exited').length === 3 &&
        healthy.every((i) => !before.has(i.id as string))
        ? true
        : undefined;
    });
  });

  it('serves logs, metrics and events of the running app', async () => {
    const logs = await call('GET', '/v1/apps/web/logs?tail=10');
    expect(logs.status).toBe(200);
    expect(logs.headers.get('content-type')).toMatch(/^text\/plain/);
    const lines = logs.text.trim().split('\n');
    const instances = (await call('GET', '/v1/apps/web/instances')).json.items as Json[];
    const running = instances.filter((i) => i.state === 'running').map((i) => (i.id as string).slice(0, 12));
    const ofRunning = lines.filter((line) => running.includes(line.slice(0, 12)));
    expect(ofRunning.length).toBeGreaterThanOrEqual(3);
    for (const line of ofRunning) {
      expect(line).toMatch(/^[0-9a-f]{12} \d{4}-\d\d-\d\dT[\d:.]+Z hello from [0-9a-f]{12}$/);
      // The engine's time, which the replicas' lines are merged by.
      expect(lineTime(line.slice(13))).toBeDefined();
    }

    const metrics = await eventually('metrics', async () => {
      const res = await call('GET', '/v1/apps/web/metrics?window=5m');
      return (res.json?.replicas as Json[] | undefined)?.length === 3 ? res.json : undefined;
    });
    // Docker keeps no history: the figures span as much of the window as the platform's stats streams have seen.
    expect(durationMs(metrics.window as string)).toBeGreaterThanOrEqual(1000);
    expect(durationMs(metrics.window as string)).toBeLessThanOrEqual(5 * 60_000);
    expect(metrics.average).toEqual(expect.objectContaining({ cpuPercent: expect.any(Number) }));

    expect((await call('GET', '/v1/apps/web/metrics?window=soon')).status).toBe(400);
    expect((await call('GET', '/v1/apps/web/logs?tail=-1')).status).toBe(400);
    const events = await call('GET', '/v1/apps/web/events');
    const times = (events.json.items as Json[]).map((e) => e.at as string);
    expect(times).toEqual([...times].sort().reverse());
  });

  it('passes connection upgrades (WebSocket) through the ingress to a replica, both ways', async () => {
    // A replica that answers any upgrade with 101 and then echoes: busybox's nc, one shell per connection.
    const upgradeEcho = [
      'while read -r line; do case "$line" in "$(printf "\\r")" | "") break ;; esac; done',
      "printf 'HTTP/1.1 101 Switching Protocols\\r\\nConnection: Upgrade\\r\\nUpgrade: echo\\r\\n\\r\\n'",
      'exec cat',
    ].join('; ');
    await readyApp('chat', ['nc', '-ll', '-p', '8080', '-e', 'sh', '-c', upgradeEcho]);

    const echoed = await upgradeThroughIngress(
      env.ingressPort,
      'chat.acme.localhost',
      'ping over the tunnel\n',
    );
    expect(echoed).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);

    expect((await call('DELETE', '/v1/apps/chat')).status).toBe(202);
    await untilAppGone(client.call, acmeKey, 'chat');
  });

  it('answers a request it cannot read as problem+json, on the API and at the ingress alike', async () => {
    const unreadable = 'the request line or its Host header cannot be read';
    type Case = { request: string; status?: string; code?: string; detail: string };
    /** Headers, or a request line, past a server's limit: the API's is Node's 16 KiB, the ingress's an ALB's 64. */
    const tooLarge = (limit: number): Case[] =>
      [
        `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${'a'.repeat(limit + 1000)}\r\n`,
        `GET /v1/apps/${'a'.repeat(limit + 1000)} HTTP/1.1\r\nHost: 127.0.0.1\r\n`,
      ].map((request) => ({
        request,
        status: '431 Request Header Fields Too Large',
        code: 'headers.tooLarge',
        detail: `the request line and headers may be at most ${limit} bytes together: a long URL counts`,
      }));
    const cases: Case[] = [
      {
        request: 'GET /v1\\apps HTTP/1.1\r\nHost: 127.0.0.1\r\n',
        detail: `${unreadable}: Backslash in request path`,
      },
      { request: 'GET / HTTP/1.1\r\nHost: web acme\r\n', detail: `${unreadable}: Invalid URL` },
      {
        request: 'GET http://[web/ HTTP/1.1\r\nHost: 127.0.0.1\r\n',
        detail: `${unreadable}: Invalid absolute URL`,
      },
      {
        request:
          'POST /v1/apps HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n',
        detail: "the request cannot be read: Transfer-Encoding can't be present with Content-Length",
      },
    ];
    for (const [port, limit] of [
      [env.apiPort, 16_384],
      [env.ingressPort, 65_536],
    ] as const) {
      for (const { request, status = '400 Bad Request', code = 'validation.failed', detail } of [
        ...cases,
        ...tooLarge(limit),
      ]) {
        const answer = await rawExchange(port, `${request}Connection: close\r\n\r\n`);
        const [head = '', body = ''] = answer.split('\r\n\r\n');
        expect(head, request).toMatch(new RegExp(`^HTTP/1\\.1 ${status}\r\n`));
        expect(head.toLowerCase()).toContain('content-type: application/problem+json');
        expect(JSON.parse(body)).toMatchObject({ code, detail });
      }
    }
  });

  it('goes on serving when a client goes away halfway through sending a body to an app', async () => {
    // The client closes its side with 5 of the 50 bytes it announced sent: the rest never comes.
    const host = `web.acme.localhost:${env.ingressPort}`;
    await rawExchange(env.ingressPort, `POST / HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 50\r\n\r\nhello`);
    expect((await ingressGet(env.ingressPort, 'web.acme.localhost')).status).toBe(200);
    expect((await call('GET', '/healthz')).status).toBe(200);
  });

  it('answers 504 for a replica that sends nothing for BERTH_APP_IDLE_TIMEOUT_SECONDS, as the load balancer does', async () => {
    // busybox httpd, whose CGI script never answers.
    const serve = [
      'mkdir -p /w/cgi-bin',
      'printf "#!/bin/sh\\nsleep 600\\n" > /w/cgi-bin/hang',
      'chmod +x /w/cgi-bin/hang',
      'echo ok > /w/index.html',
      'exec httpd -f -p 8080 -h /w',
    ].join(' && ');
    await readyApp('slow', ['sh', '-c', serve]);
    expect(await ingressGet(env.ingressPort, 'slow.acme.localhost')).toEqual({ status: 200, body: 'ok\n' });

    const hung = await ingressGet(env.ingressPort, 'slow.acme.localhost', '/cgi-bin/hang');
    expect(hung.status).toBe(504);
    expect(JSON.parse(hung.body)).toMatchObject({
      code: 'app.timeout',
      detail: `app "slow" did not answer within ${IDLE_SECONDS} s`,
    });

    expect((await call('DELETE', '/v1/apps/slow')).status).toBe(202);
    await untilAppGone(client.call, acmeKey, 'slow');
  });

  it('replaces a replica that runs but never answers, while other apps are reconciled between its checks', async () => {
    // `sleep` keeps the container running with nothing on its port: only its health checks can tell.
    const created = await call('POST', '/v1/apps', {
      name: 'mute',
      image: `${registry}/acme/web:v1`,
      ...SIZE,
      command: ['sleep', '600'],
      // Failures 3 s apart, so the loop passes over web (every tick, 2 s) between any two of them.
      healthCheck: { intervalSeconds: 3, timeoutSeconds: 1, unhealthyThreshold: 2, gracePeriodSeconds: 2 },
    });
    expect(created.status, created.text).toBe(201);
    const unhealthy = await eventually('the replica to fail its health checks', async () => {
      const events = (await call('GET', '/v1/apps/mute/events')).json.items as Json[];
      return events.find((e) => e.type === 'unhealthy');
    });
    expect(unhealthy.message).toMatch(
      /^replica \d+ failed its health checks \(TCP connect to port 8080: connection refused; nothing in its container listens on a TCP port yet: an app that takes longer to start needs a longer healthCheck\.gracePeriodSeconds\)$/,
    );
    expect((await call('DELETE', '/v1/apps/mute')).status).toBe(202);
    await untilAppGone(client.call, acmeKey, 'mute');
  });

  it("keeps tenants out of each other's repositories and refuses images that point inside the network", async () => {
    await login(betaDocker, betaKey);
    const pull = betaDocker.run(['pull', `${registry}/acme/web:v1`]);
    expect(pull.status).not.toBe(0);
    expect(pull.output).toMatch(/denied|unauthorized|insufficient_scope/i);
    betaDocker.ok(['tag', inject('testImage'), `${registry}/acme/evil:1`]);
    const push = betaDocker.run(['push', `${registry}/acme/evil:1`]);
    expect(push.status).not.toBe(0);
    expect(push.output).toMatch(/denied|unauthorized|insufficient_scope/i);
    const anonymous = await fetch(`http://${registry}/v2/acme/web/manifests/v1`);
    expect(anonymous.status).toBe(401);

    for (const image of [
      `${registry}/acme/web:v1`,
      '169.254.169.254/latest:1',
      '10.0.0.7:5000/acme/web:v1',
      '127.0.0.1:2375/acme/web:v1',
      'localhost:2375/x:1',
      'metadata.google.internal/x:1',
      '[::1]:5000/beta/x:1',
      'UPPER/Case',
      `${registry}/beta/never-pushed:1`,
    ]) {
      const res = await call('POST', '/v1/apps', { name: 'probe', image, ...SIZE }, betaKey);
      expect(res.status, image).toBe(400);
      expect(res.json.code, image).toBe('validation.failed');
    }
    expect((await call('GET', '/v1/apps', undefined, betaKey)).json.items).toEqual([]);
  });

  it('answers requests to a running app right after a restart of the platform, while it adopts the replicas; drops unused images and expired items', async () => {
    // An image of the platform registry that the engine holds and no container uses: the platform's start removes it.
    await login(acmeDocker, acmeKey);
    expect((await call('POST', '/v1/repositories', { name: 'spare' })).status).toBe(201);
    const spare = buildTestImage(`${registry}/acme/spare:1`, [`LABEL spare=${Date.now()}`]);
    const spareDigest = /digest: (sha256:[0-9a-f]{64})/.exec(acmeDocker.ok(['push', spare]))?.[1] ?? '';
    acmeDocker.ok(['rmi', spare]);
    acmeDocker.ok(['pull', `${registry}/acme/spare@${spareDigest}`]);
    const held = (reference: string) => acmeDocker.run(['image', 'inspect', reference]).status === 0;
    // An item of the table that expired a minute ago: DynamoDB Local keeps it; the platform's start deletes it.
    const expired = { pk: { S: 'e2e' }, sk: { S: 'expired' } };
    const table = platformTable(platform, env);
    await table.dynamodb.call('PutItem', {
      TableName: table.tableName,
      Item: { ...expired, expiresAt: { N: `${Math.floor(Date.now() / 1000) - 60}` } },
    });

    const before = acmeContainers('running').sort();
    expect(before.length).toBeGreaterThan(0);
    expect(await platform.stop()).toBe(0);
    // The containers outlive the platform. Once it is ready again, the ingress holds a request until the reconcile
    // loop's first passes have probed and routed them again, rather than answer 503 meanwhile: every answer is 200.
    platform = await runPlatform(env);
    await hostnames(6);
    expect(acmeContainers('running').sort()).toEqual(before);
    await eventually('the unused image to be removed', async () =>
      held(`${registry}/acme/spare@${spareDigest}`) ? undefined : true,
    );
    expect(held(`${registry}/acme/web@${digest}`)).toBe(true);
    expect((await call('DELETE', '/v1/repositories/spare')).status).toBe(204);
    const restarted = platformTable(platform, env);
    await eventually('the expired item to be deleted', async () => {
      const { Item } = await restarted.dynamodb.call<{ Item?: unknown }>('GetItem', {
        TableName: restarted.tableName,
        Key: expired,
      });
      return Item ? undefined : true;
    });
  });

  it('converges after the platform is killed mid-deploy: no duplicates, no orphans', async () => {
    const deploy = await call('POST', '/v1/apps/web/deployments', { env: { COLOR: 'blue' } });
    expect(deploy.status).toBe(202);
    await eventually('the new revision to start', async () =>
      acmeContainers().some((id) => revisionOf(id) === String(deploy.json.revision)) ? true : undefined,
    );
    platform.child.kill('SIGKILL');
    await platform.stop();
    platform = await runPlatform(env);

    const outcome = await deploymentOutcome(deploy.json.id as string);
    expect(outcome.status, JSON.stringify(outcome)).toBe('succeeded');
    await eventually('old replicas gone', async () => (acmeContainers().length === 3 ? true : undefined));
    const revisions = acmeContainers().map((id) => revisionOf(id));
    const current = await app();
    expect(revisions).toEqual(Array(3).fill(String(current.currentRevision)));
    expect((await hostnames(6)).size).toBe(3);
  });

  it('refuses a rollback to a revision whose image went with its repository', async () => {
    expect((await call('POST', '/v1/repositories', { name: 'old' })).status).toBe(201);
    const old = `${registry}/acme/old:v1`;
    acmeDocker.ok(['tag', inject('testImage'), old]);
    acmeDocker.ok(['push', old]);
    // Nothing needs to run: revision 1 runs the old repository's image, revision 2 the web one's.
    const created = await call('POST', '/v1/apps', { name: 'roll', image: old, ...SIZE, replicas: 0 });
    expect(created.status).toBe(201);
    const moved = await call('POST', '/v1/apps/roll/deployments', { image: `${registry}/acme/web:v1` });
    expect(moved.status).toBe(202);
    await eventually('revision 2 to be live', async () =>
      (await app('roll')).currentRevision === 2 ? true : undefined,
    );
    expect((await call('DELETE', '/v1/repositories/old')).status).toBe(204);

    const refused = await call('POST', '/v1/apps/roll/rollback', { revision: 1 });
    expect(refused).toMatchObject({ status: 409, json: { code: 'revision.imageGone' } });
    expect(refused.json.detail).toMatch(
      /^revision 1 runs 127\.0\.0\.1:\d+\/acme\/old@sha256:[0-9a-f]{64}, which is no/,
    );
    // What is still in the registry, it goes back to.
    const third = await call('POST', '/v1/apps/roll/deployments', { env: { RELEASE: '3' } });
    expect((await deploymentOutcome(third.json.id as string, 'roll')).status).toBe('succeeded');
    expect((await call('POST', '/v1/apps/roll/rollback', { revision: 2 })).status).toBe(202);
    expect((await call('DELETE', '/v1/apps/roll')).status).toBe(202);
    await untilAppGone(client.call, acmeKey, 'roll');
  });

  it('deletes an app: its containers go, then the app — and then its repository with the images', async () => {
    expect(await call('DELETE', '/v1/repositories/web')).toMatchObject({
      status: 409,
      json: { code: 'repository.inUse' },
    });
    expect((await call('DELETE', '/v1/apps/web')).status).toBe(202);
    await eventually('the app to be gone', async () =>
      (await call('GET', '/v1/apps/web')).status === 404 ? true : undefined,
    );
    expect(acmeContainers()).toEqual([]);
    expect((await web()).status).toBe(404);

    expect((await call('DELETE', '/v1/repositories/web')).status).toBe(204);
    expect((await call('GET', '/v1/repositories')).json.items).toEqual([]);
    expect((await call('GET', '/v1/repositories/web/images')).json.code).toBe('repository.notFound');
    // The registry itself no longer has the image.
    const pull = acmeDocker.run(['pull', `${registry}/acme/web:v1`]);
    expect(pull.status).not.toBe(0);
    expect(pull.output).toMatch(/not found|unknown/i);
    expect((await call('DELETE', '/v1/repositories/web')).json.code).toBe('repository.notFound');
  });

  it('takes out a push that lands after its repository was deleted, on a token granted before', async () => {
    const login = await call('POST', '/v1/registry/token');
    const http = registryHttp({
      api: env.api,
      registry,
      ...(login.json as { username: string; password: string }),
    });
    expect((await call('POST', '/v1/repositories', { name: 'late' })).status).toBe(201);
    const pushToken = await http.token('repository:acme/late:pull,push');
    expect((await call('DELETE', '/v1/repositories/late')).status).toBe(204);
    await expect(http.token('repository:acme/late:pull,push')).rejects.toThrow(/403 .*late.* does not exist/);

    const digest = await http.push('acme/late', '1', pushToken);
    await eventually('the late push to be taken out of the registry', async () =>
      (await http.manifestStatus('acme/late', digest)) === 404 ? true : undefined,
    );
    // A repository created by that name later starts empty.
    expect((await call('POST', '/v1/repositories', { name: 'late' })).status).toBe(201);
    expect((await call('GET', '/v1/repositories/late/images')).json.items).toEqual([]);
    expect(await http.manifestStatus('acme/late', '1')).toBe(404);
    expect((await call('DELETE', '/v1/repositories/late')).status).toBe(204);
  });
});
