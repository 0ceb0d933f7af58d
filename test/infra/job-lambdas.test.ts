import { createHash, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { DynamoMeterStore } from '../../functions/adapters/dynamodb/meter-store.ts';
import { DynamoStore } from '../../functions/adapters/dynamodb/store.ts';
import { ensureTable } from '../../functions/adapters/dynamodb/table.ts';
import { createApp } from '../../functions/core/apps.ts';
import { periodEndMs, periodOf, previousPeriod } from '../../functions/core/billing.ts';
import { seedPlans } from '../../functions/core/plans.ts';
import type { RegistryDeps } from '../../functions/core/ports.ts';
import { createTenant } from '../../functions/core/tenants.ts';
import { listEveryUsage } from '../../functions/core/walk.ts';
import { REPORT_SETTLES_AFTER_MS } from '../../functions/jobs/report.ts';
import { localDynamoDbClient } from '../../functions/local/dynamodb-local.ts';
import { berthApp } from '../../infra/berth-app.ts';
import { DEFAULT_PRICE_TABLE } from '../../schemas/billing.ts';
import { FakeHosts } from '../fakes/fake-hosts.ts';
import { FakeRegistry } from '../fakes/fake-registry.ts';
import { lambdaBundles } from '../support/lambda-bundles.ts';
import { INSTALL_CONTEXT, LAMBDA_CONTEXT, LAMBDA_ENV } from '../support/lambda-fixtures.ts';
import { figuresIn, printedBy } from '../support/printed-by.ts';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

/** A request the job Lambdas' SDK clients sent to AWS: its operation (`x-amz-target`, or S3's method and path). */
interface AwsRequest {
  operation: string;
  body: string;
}

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

/**
 * AWS's services as the job Lambdas' SDK clients reach them (AWS_ENDPOINT_URL): ECS runs no task, SQS takes every
 * message, S3 every object, as their APIs answer; any other request is refused as an operation AWS does not know,
 * so a test sees it. Every request is kept.
 */
async function fakeAws() {
  const requests: AwsRequest[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const target = req.headers['x-amz-target'];
    const operation = typeof target === 'string' ? target : `${req.method} ${req.url?.split('?')[0]}`;
    requests.push({ operation, body });
    const json = (status: number, value: unknown, type: string) => {
      res.writeHead(status, { 'content-type': type });
      res.end(JSON.stringify(value));
    };
    if (operation === 'AmazonEC2ContainerServiceV20141113.ListTasks')
      return json(200, { taskArns: [] }, 'application/x-amz-json-1.1');
    if (operation === 'AmazonSQS.SendMessage') {
      const { MessageBody } = JSON.parse(body) as { MessageBody: string };
      return json(
        200,
        { MessageId: randomUUID(), MD5OfMessageBody: md5(MessageBody) },
        'application/x-amz-json-1.0',
      );
    }
    if (operation === 'AmazonSQS.SendMessageBatch') {
      const { Entries } = JSON.parse(body) as { Entries: { Id: string; MessageBody: string }[] };
      const Successful = Entries.map((e) => ({
        Id: e.Id,
        MessageId: randomUUID(),
        MD5OfMessageBody: md5(e.MessageBody),
      }));
      return json(200, { Successful, Failed: [] }, 'application/x-amz-json-1.0');
    }
    if (req.method === 'PUT') {
      res.writeHead(200, { etag: `"${md5(body)}"` });
      return res.end();
    }
    json(
      400,
      { __type: 'UnknownOperationException', message: `not faked: ${operation}` },
      'application/json',
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { endpoint, requests, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** What the meter and the autoscaler ask ECS: the cluster's tasks, running and recently stopped, in pages of 100. */
const TASK_LISTINGS = ['RUNNING', 'STOPPED'].map((desiredStatus) => [
  'AmazonEC2ContainerServiceV20141113.ListTasks',
  { cluster: LAMBDA_ENV.BERTH_CLUSTER, desiredStatus, maxResults: 100 },
]);

/** An "ECS Task State Change" event as EventBridge delivers it, shaped like AWS's documentation of it. */
function taskStateChange(detail: Record<string, unknown> & { taskArn: string; version: number }) {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'ECS Task State Change',
    source: 'aws.ecs',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'eu-west-1',
    resources: [detail.taskArn],
    detail: {
      clusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/berth',
      launchType: 'FARGATE',
      platformVersion: '1.4.0',
      cpu: '256',
      memory: '512',
      availabilityZone: 'eu-west-1a',
      ...detail,
    },
  };
}

/**
 * The job Lambdas as they are deployed: each bundle the CDK app builds, imported (its INIT) with the environment
 * the stack gives it, then invoked with the events its trigger sends — the table on the run's DynamoDB Local, the
 * AWS services its SDK clients call on fakeAws. Together they take a Fargate task's life through to the month's
 * report: the ECS events Lambda records it, the meter bills it, the report Lambda files it.
 */
describe('the job Lambdas, bundled', () => {
  const assembly = berthApp({ context: { berth: INSTALL_CONTEXT } }).app.synth();
  const bundles = lambdaBundles(assembly, 'BerthPlatform');
  const tableName = `t-${randomUUID()}`;
  const table = localDynamoDbClient(inject('dynamodb'));
  const store = new DynamoStore(table, tableName);
  const meter = new DynamoMeterStore(table, tableName);
  // The task lived on the 15th of last month, 10:00:00 (its image pull) to 10:30:00; the tenants came before.
  const now = new Date();
  const lastMonth = (day: number, hour = 0, minute = 0) =>
    new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, day, hour, minute));
  const period = previousPeriod(periodOf(now));
  // The report of last month is final once built three days after it, a draft before (this test runs any day).
  const status = now.getTime() >= periodEndMs(period) + REPORT_SETTLES_AFTER_MS ? 'final' : 'draft';
  let aws: Awaited<ReturnType<typeof fakeAws>>;
  let group = '';
  let appUid = '';

  /** The handler of the bundled Lambda whose logical id begins `id`, imported once. */
  const handlers = new Map<string, Promise<Handler>>();
  const lambda = (id: string) => {
    const bundle = bundles.find((b) => b.id.startsWith(id));
    if (!bundle) throw new Error(`no ${id} bundle`);
    if (!handlers.has(id))
      handlers.set(
        id,
        import(pathToFileURL(bundle.file).href).then((m) => (m as { handler: Handler }).handler),
      );
    return handlers.get(id) as Promise<Handler>;
  };
  /** Invokes a bundled Lambda with `remainingMs` of its time left: what it answered and the figures it put out. */
  const invoke = async (id: string, event: unknown, remainingMs = 60_000) => {
    const handler = await lambda(id);
    let answer: unknown;
    const printed = await printedBy(async () => {
      answer = await handler(event, { ...LAMBDA_CONTEXT, getRemainingTimeInMillis: () => remainingMs });
    });
    return { answer, figures: figuresIn(printed), printed };
  };
  const operations = () => aws.requests.map((r) => r.operation);

  beforeAll(async () => {
    aws = await fakeAws();
    await ensureTable(table, tableName);
    for (const [name, value] of Object.entries({
      ...LAMBDA_ENV,
      BERTH_TABLE_NAME: tableName,
      BERTH_RECONCILE_QUEUE_URL: `${aws.endpoint}/123456789012/reconcile`,
      AWS_ENDPOINT_URL_DYNAMODB: inject('dynamodb').endpoint,
      AWS_ENDPOINT_URL: aws.endpoint,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    }))
      vi.stubEnv(name, value);
    const deps: RegistryDeps = {
      store,
      meter,
      clock: { now: () => lastMonth(1) },
      prices: DEFAULT_PRICE_TABLE,
      appUrl: (tenantId, app) => `https://${app}--${tenantId}.apps.example.com`,
      runtimes: ['fargate'],
      registry: new FakeRegistry(),
      hosts: new FakeHosts(),
      logger: {
        error(message) {
          throw new Error(`the set-up logged: ${message}`);
        },
      },
    };
    await seedPlans(deps);
    for (const id of ['acme', 'globex']) await createTenant(deps, { id, name: id, plan: 'pro' });
    const spec = { image: 'registry.example.com/acme/web:1', cpu: 0.25, memory: 512, port: 8080 };
    await createApp(deps, 'acme', { name: 'web', ...spec });
    // An app whose schedule (each minute) holds it at 2 replicas or more, for the autoscaler.
    const scaling = { min: 1, max: 3, schedules: [{ cron: '* * * * *', min: 2, max: 3 }] };
    await createApp(deps, 'acme', { name: 'worker', ...spec, replicas: 1, scaling });
    appUid = (await store.getApp('acme', 'web'))?.uid ?? '';
    group = `service:berth_acme_web_${appUid.slice(-8)}`;
  }, 120_000);

  afterAll(async () => {
    vi.unstubAllEnvs();
    await aws.close();
  });

  it("ECS events: records a task's life and how it failed once, from events duplicated and out of order", async () => {
    const taskArn = 'arn:aws:ecs:eu-west-1:123456789012:task/berth/0123456789abcdef0123456789abcdef';
    const times = {
      pullStartedAt: lastMonth(15, 10).toISOString(),
      startedAt: new Date(lastMonth(15, 10).getTime() + 20_000).toISOString(),
      stoppedAt: lastMonth(15, 10, 30).toISOString(),
    };
    const task = { taskArn, group, desiredStatus: 'RUNNING' };
    const provisioning = taskStateChange({ ...task, lastStatus: 'PROVISIONING', version: 1 });
    const running = taskStateChange({
      ...task,
      lastStatus: 'RUNNING',
      pullStartedAt: times.pullStartedAt,
      startedAt: times.startedAt,
      containers: [{ name: 'app', lastStatus: 'RUNNING' }],
      version: 3,
    });
    const stopped = taskStateChange({
      ...task,
      desiredStatus: 'STOPPED',
      lastStatus: 'STOPPED',
      ...times,
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
      containers: [{ name: 'app', lastStatus: 'STOPPED', exitCode: 1 }],
      version: 5,
    });
    const delivered = [];
    for (const event of [stopped, running, stopped, provisioning, running])
      delivered.push(await invoke('EcsEvents', event));
    expect(delivered.map((d) => d.figures[0])).toEqual(
      [
        [1, 1],
        [1, 0],
        [1, 1],
        [0, 0],
        [1, 0],
      ].map(([lifetime, stop]) =>
        expect.objectContaining({
          taskLifetimesObserved: lifetime,
          taskStopEventsRecorded: stop,
          service: 'ecs-events',
          installation: 'berth',
        }),
      ),
    );
    // One life, from its image pull (as Fargate bills) to its stop, whatever came first.
    expect(await meter.listOpenLifetimes('acme')).toEqual([
      expect.objectContaining({
        instanceId: taskArn,
        app: 'web',
        cpu: 0.25,
        memoryMiB: 512,
        startedSec: Date.parse(times.pullStartedAt) / 1000,
        stoppedSec: Date.parse(times.stoppedAt) / 1000,
      }),
    ]);
    const { items } = await store.listAppEvents('acme', appUid, { limit: 20 });
    expect(items.filter((e) => e.type === 'replicaExited')).toEqual([
      expect.objectContaining({ message: 'replica exited with code 1', at: times.stoppedAt }),
    ]);
    expect(operations()).toEqual([]);
  });

  it('meter: bills the stopped task by the second in the hours it lived, reading the tasks ECS runs', async () => {
    const { figures } = await invoke('Meter', {});
    expect(figures).toEqual([expect.objectContaining({ lifetimesAccrued: 1, service: 'meter' })]);
    const hour = lastMonth(15, 10).toISOString().slice(0, 13);
    const usage = await listEveryUsage(store, 'acme', hour, hour);
    expect(usage.map((u) => [u.app, u.instanceSeconds, u.vcpuMilliSeconds])).toEqual([
      ['web', 1800, 450_000],
    ]);
    // The tasks running and recently stopped in the install's cluster: none, so the stopped one is closed.
    expect(aws.requests.map((r) => [r.operation, JSON.parse(r.body)])).toEqual(TASK_LISTINGS);
    expect(await meter.listOpenLifetimes('acme')).toEqual([]);
  });

  it("report: files each tenant's report of last month in the bucket, JSON and CSV, in its time", async () => {
    aws.requests.length = 0;
    // A run with less than the minute it keeps for the reports it started starts none, and says so.
    const late = await invoke('Report', {}, 59_000);
    expect(late.figures).toEqual([
      expect.objectContaining({ reportsBuilt: 0, reportsLeft: 2, service: 'report' }),
    ]);
    expect(late.printed.filter((line) => line.includes('reports left for the next run'))).toHaveLength(1);
    expect(operations()).toEqual([]);
    const { figures } = await invoke('Report', {}, 900_000);
    expect(figures).toEqual([
      expect.objectContaining({ reportsBuilt: 2, reportsLeft: 0, service: 'report' }),
    ]);
    const bucket = `/${LAMBDA_ENV.BERTH_REPORT_BUCKET}/reports/${period}`;
    expect(operations().sort()).toEqual(
      ['acme.csv', 'acme.json', 'globex.csv', 'globex.json'].map((file) => `PUT ${bucket}/${file}`),
    );
    const csv = aws.requests.find((r) => r.operation === `PUT ${bucket}/acme.csv`)?.body;
    // 0.25 vCPU, 0.5 GiB for 1800 s at the default prices: 0.125 vCPU-h × 40,480 µ$ + 0.25 GiB-h × 4,445 µ$.
    expect(csv?.split('\r\n').slice(1, 3)).toEqual([
      `acme,${period},${status},${DEFAULT_PRICE_TABLE.version},web,450,900,1800,6171,0.006171`,
      `acme,${period},${status},${DEFAULT_PRICE_TABLE.version},TOTAL,450,900,1800,6171,0.006171`,
    ]);
    expect(await meter.getReport('acme', period)).toMatchObject({
      status,
      total: { instanceSeconds: 1800 },
    });
  });

  it('dispatch: sends a reconcile per tenant and runtime its apps use, and a sweep per runtime offered', async () => {
    aws.requests.length = 0;
    const { figures } = await invoke('Dispatch', {});
    expect(figures).toEqual([expect.objectContaining({ reconcilesDispatched: 2, service: 'dispatch' })]);
    expect(operations()).toEqual(['AmazonSQS.SendMessageBatch']);
    const { QueueUrl, Entries } = JSON.parse(aws.requests[0]?.body ?? '{}') as {
      QueueUrl: string;
      Entries: { MessageBody: string }[];
    };
    expect(QueueUrl).toBe(`${aws.endpoint}/123456789012/reconcile`);
    expect(Entries.map((e) => JSON.parse(e.MessageBody))).toEqual([
      { tenantId: 'acme', runtime: 'fargate' },
      { sweep: 'fargate' },
    ]);
  });

  it('reconcile: answers the messages it could not do, alone, so SQS retries only those', async () => {
    aws.requests.length = 0;
    const record = (messageId: string, body: string) => ({
      messageId,
      receiptHandle: `rh-${messageId}`,
      body,
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()) },
      messageAttributes: {},
      md5OfBody: md5(body),
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:reconcile',
      awsRegion: 'eu-west-1',
    });
    const { answer, figures, printed } = await invoke('Reconcile', {
      Records: [
        record('m1', JSON.stringify({ tenantId: 'globex', runtime: 'fargate' })),
        record('m2', '{"tenantId": "acme", "runtime": '),
      ],
    });
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });
    expect(figures).toEqual([
      expect.objectContaining({
        reconciles: 2,
        reconcilesFailed: 1,
        appsNotStarting: 0,
        service: 'reconcile',
      }),
    ]);
    expect(printed.filter((line) => line.includes('reconcile failed'))).toEqual([
      expect.stringContaining('"messageId":"m2"'),
    ]);
    expect(operations()).toEqual([]);
  });

  it('scale: takes an app to what its schedule holds it at, and nudges its reconcile', async () => {
    aws.requests.length = 0;
    const { figures, printed } = await invoke('Scale', {});
    expect(figures).toEqual([expect.objectContaining({ appsScaled: 1, appsNotScaled: 0, service: 'scale' })]);
    expect(await store.getApp('acme', 'worker')).toMatchObject({ replicas: 2 });
    // Its replicas, from the tasks ECS runs (none yet: no utilisation to read), then the nudge, sent before the
    // Lambda returns.
    expect(aws.requests.map((r) => [r.operation, JSON.parse(r.body)])).toEqual([
      ...TASK_LISTINGS,
      [
        'AmazonSQS.SendMessage',
        {
          QueueUrl: `${aws.endpoint}/123456789012/reconcile`,
          MessageBody: JSON.stringify({ tenantId: 'acme', runtime: 'fargate' }),
        },
      ],
    ]);
    expect(printed.filter((line) => line.includes('"level":"ERROR"'))).toEqual([]);
  });
});
