import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { ContainerInspectInfo } from 'dockerode';
import { stoppedOutsideBerth } from '../../core/app-events.ts';
import { DROPPED_CAPABILITIES } from '../../core/container-capabilities.ts';
import { ConflictError, UnavailableError } from '../../core/errors.ts';
import type {
  LogOptions,
  Metrics,
  Replica,
  ReplicaFilter,
  ReplicaLogs,
  ReplicaSamples,
  ReplicaSpec,
  ReplicaStats,
  Runtime,
} from '../../core/ports.ts';
import { replicaEnv } from '../../core/replica-env.ts';
import { bootTime } from '../linux/boot-time.ts';
import { listenersOf } from '../linux/tcp-listeners.ts';
import { fullImageName } from '../oci/full-image-name.ts';
import { unreachableBecause } from './container-listeners.ts';
import { type DockerError, engineMessage, statusOf } from './docker-errors.ts';
import { type Answered, answeredIn, ENGINE_ANSWER_MS } from './engine-answer.ts';
import { logLines } from './log-messages.ts';
import { PULL_RETRY_WAITS_MS, registryUnreachable } from './registry-unreachable.ts';
import { replicaNetwork } from './replica-network.ts';
import { RETIRED_LOG_LINES, RetiredReplicas } from './retired-replicas.ts';
import { signalName } from './signals.ts';
import { NEVER, StatsStreams } from './stats-streams.ts';
import { UnusedImages } from './unused-images.ts';

/** The labels that tie a container to its app; the reconciler finds, adopts and cleans up by them. */
export const LABELS = {
  installation: 'berth.installation',
  tenant: 'berth.tenant',
  app: 'berth.app',
  appUid: 'berth.app-uid',
  revision: 'berth.revision',
  generation: 'berth.generation',
  slot: 'berth.slot',
  port: 'berth.port',
} as const;

const MiB = 1024 * 1024;

/**
 * The replicas' OOM score adjustment (-1000 to 1000; processes start at 0): half the machine's memory added to each
 * one's size when the kernel picks what to kill, so any replica goes before any of the platform's own processes.
 */
export const REPLICA_OOM_SCORE_ADJ = 500;

/**
 * The span a sample covers when no window is asked for (instances, the autoscaler): recent, as `docker stats` is,
 * and long enough that a burst of a second does not make it.
 */
const LATEST_WINDOW_SECONDS = 10;

/**
 * Why a pull failed, in the engine's words but without what they tell of the machine: the body of an answer that
 * was no registry's, which the engine quotes (`error parsing HTTP 404 response body: invalid character … "<body>"`)
 * — should a registry name resolve into the platform's own network by the time of the pull, its tenant would read
 * what answered there — the machine's DNS resolver (`lookup <name> on 10.0.0.2:53: no such host`, or `read udp
 * 172.17.0.1:40000->10.0.0.2:53: i/o timeout`), and the proxy the engine goes through (`proxyconnect tcp: dial tcp
 * 10.1.2.3:3128: connect: connection refused`, or its name that did not resolve).
 */
export const pullFailure = (image: string, why: string) =>
  new Error(
    `pulling ${image} failed: ${why
      .trim()
      .replace(/(error parsing HTTP \d+ response body):[\s\S]*/, "$1 (not a registry's answer; not shown)")
      .replace(
        /(proxyconnect \w+: dial \w+)(?: \S+|: lookup \S+(?: on \S+:53)?):/g,
        "$1 (the engine's proxy):",
      )
      .replace(/(lookup \S+) on \S+:53:/g, '$1:')
      .replace(/ read (?:udp|tcp) \S+->\S+:53:/g, '')}`,
  );

/** Docker Engine unreachable → UnavailableError; anything else is rethrown. */
function translate(err: unknown): never {
  const code = (err as DockerError).code;
  if (code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'ECONNRESET') {
    throw new UnavailableError('the Docker Engine is unavailable; retry shortly', { cause: err });
  }
  throw err;
}

/**
 * The container name of a replica of an installation (`berth-acme-web-0e36c3cf-r4-g6-s1`): unique per app
 * incarnation, revision, generation and slot, so that two reconcilers starting the same replica make one.
 */
function replicaName(
  spec: Pick<ReplicaSpec, 'tenantId' | 'app' | 'appUid' | 'revision' | 'generation' | 'slot'>,
  installation: string,
): string {
  return `${installation}-${spec.tenantId}-${spec.app}-${spec.appUid.slice(-8)}-r${spec.revision}-g${spec.generation}-s${spec.slot}`;
}

/**
 * The Docker create options of a replica: limits, init, labels, arrays, never a shell, on the `network` that keeps
 * replicas from one another (replica-network.ts). Its port is published on no port of the host's: the ingress and the
 * health checks reach it at its address on that network, and a host port would cost a docker-proxy process each.
 */
export function containerOptions(
  spec: ReplicaSpec,
  installation: string,
  network: string,
): Docker.ContainerCreateOptions {
  const port = `${spec.port}/tcp`;
  return {
    name: replicaName(spec, installation),
    Image: fullImageName(spec.image),
    ...(spec.command ? { Cmd: spec.command } : {}),
    Env: Object.entries(replicaEnv(spec)).map(([name, value]) => `${name}=${value}`),
    Labels: {
      [LABELS.installation]: installation,
      [LABELS.tenant]: spec.tenantId,
      [LABELS.app]: spec.app,
      [LABELS.appUid]: spec.appUid,
      [LABELS.revision]: String(spec.revision),
      [LABELS.generation]: String(spec.generation),
      [LABELS.slot]: String(spec.slot),
      [LABELS.port]: String(spec.port),
    },
    ExposedPorts: { [port]: {} },
    HostConfig: {
      NanoCpus: Math.round(spec.cpu * 1e9),
      Memory: spec.memory * MiB,
      MemorySwap: spec.memory * MiB,
      Init: true,
      NetworkMode: network,
      RestartPolicy: { Name: 'no' },
      SecurityOpt: ['no-new-privileges'],
      CapDrop: [...DROPPED_CAPABILITIES],
      PidsLimit: 4096,
      // Nothing holds the apps' memory to the machine's: should they take all of it, the kernel kills one of them
      // rather than DynamoDB Local, the registry or the platform itself.
      OomScoreAdj: REPLICA_OOM_SCORE_ADJ,
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
    },
  };
}

/**
 * Why a container that started before this machine's boot (`bootedAt`) and is found stopped after it ended: with the
 * machine. The engine, finding it no longer running as it started again, stamps its stop with that moment (and an
 * exit code of its own, such as 255), not with when it stopped, which no one saw; one the engine stopped as the
 * machine shut down has its true stop, before the boot. Undefined for any other.
 */
function endedWithTheMachine(
  startedAt: string | null,
  finishedAt: string | null,
  bootedAt: number | undefined,
) {
  if (!startedAt || !finishedAt || bootedAt === undefined) return undefined;
  if (Date.parse(startedAt) >= bootedAt || Date.parse(finishedAt) < bootedAt) return undefined;
  const booted = new Date(bootedAt).toISOString();
  return `this machine stopped while it ran (it booted again at ${booted}); when it stopped is not known`;
}

/** What Docker says of an exit beyond its code: the kernel's OOM kill, or its own error starting the container. */
const exitReasonOf = (state: ContainerInspectInfo['State']) =>
  state.OOMKilled ? 'OOMKilled' : state.Error || undefined;

/** What this process knows of a container beyond what the engine says (see toReplica). */
interface ReplicaSeen {
  starting?: boolean;
  stopping?: boolean;
  signalledOutside?: string[];
  bootedAt?: number;
}

/**
 * A container as a replica. One still "created" will never run when its start failed (Docker keeps its error, as
 * with those an engine going down leaves) or when no start is on its way (`starting` false: the process that created
 * it died before starting it): it counts as exited, and is replaced. A paused one runs, as Docker says, but has no
 * endpoint: it cannot answer. One this process is stopping (`stopping`) is so until it has exited. One that exited
 * after the engine sent it, for someone else, its stop signal or SIGKILL (`signalledOutside`: `docker stop`, `docker
 * kill`, the engine shutting down) was stopped outside Berth; another signal (a `docker kill -s HUP` to reload) says
 * nothing of its exit. So was one that ended with the machine (see endedWithTheMachine): its stop is not known, nor is
 * its exit code, which the engine made up.
 */
function toReplica(
  info: ContainerInspectInfo,
  { starting = true, stopping = false, signalledOutside = [], bootedAt }: ReplicaSeen = {},
): Replica {
  const labels = info.Config.Labels ?? {};
  const status = info.State.Status;
  const neverRan = status === 'created' && (Boolean(info.State.Error) || !starting);
  const neverStarted = neverRan && !info.State.Error;
  const ended = status === 'exited' || status === 'dead' || neverRan;
  const paused = status === 'paused';
  const state = status === 'running' || paused ? 'running' : ended ? 'exited' : 'pending';
  const ip = Object.values(info.NetworkSettings.Networks ?? {})[0]?.IPAddress;
  const startedAt = info.State.StartedAt && info.State.StartedAt !== NEVER ? info.State.StartedAt : null;
  const finishedAt = state === 'exited' && info.State.FinishedAt !== NEVER ? info.State.FinishedAt : null;
  // The engine may stamp a process that exits at once as finished a millisecond before it started.
  const stoppedAt =
    finishedAt && startedAt && Date.parse(finishedAt) < Date.parse(startedAt) ? startedAt : finishedAt;
  // Docker reports the image's STOPSIGNAL in the container's config; dockerode's type leaves it out.
  const stopSignal = signalName((info.Config as { StopSignal?: string }).StopSignal || 'SIGTERM');
  const stoppedBy = signalledOutside.find((signal) => signal === stopSignal || signal === 'SIGKILL');
  const withTheMachine =
    state === 'exited' ? endedWithTheMachine(startedAt, finishedAt, bootedAt) : undefined;
  const stoppedOutside =
    withTheMachine ??
    (state === 'exited' && stoppedBy
      ? `the engine sent its container ${stoppedBy} (docker stop or kill, or the engine shutting down)`
      : undefined);
  const exitReason = neverStarted
    ? 'never started'
    : stoppedOutside
      ? stoppedOutsideBerth(stoppedOutside)
      : state === 'exited'
        ? exitReasonOf(info.State)
        : undefined;
  return {
    id: info.Id,
    tenantId: labels[LABELS.tenant] ?? '',
    app: labels[LABELS.app] ?? '',
    appUid: labels[LABELS.appUid] ?? '',
    revision: Number(labels[LABELS.revision]),
    generation: Number(labels[LABELS.generation]),
    slot: Number(labels[LABELS.slot]),
    state,
    cpu: (info.HostConfig.NanoCpus ?? 0) / 1e9,
    memoryMiB: Math.round((info.HostConfig.Memory ?? 0) / MiB),
    createdAt: new Date(info.Created).toISOString(),
    startedAt: startedAt && new Date(startedAt).toISOString(),
    stoppedAt: stoppedAt && !withTheMachine ? new Date(stoppedAt).toISOString() : null,
    exitCode: state === 'exited' && !neverStarted && !withTheMachine ? info.State.ExitCode : null,
    ...(exitReason ? { exitReason } : {}),
    ...(paused ? { paused } : {}),
    ...(stopping && state !== 'exited' ? { stopping } : {}),
    ...(stoppedOutside ? { stoppedOutside } : {}),
    endpoint: state === 'running' && !paused && ip ? { host: ip, port: Number(labels[LABELS.port]) } : null,
  };
}

/**
 * The Runtime on Docker Engine: one container per replica, labelled, with the spec's CPU and memory limits.
 * `installation` scopes everything it sees, so two installations sharing an engine never touch each other's
 * replicas (names must be a Docker name: letters, digits, `_.-`).
 *
 * @example
 * const runtime = new DockerRuntime(new Docker(), 'berth');
 */
export class DockerRuntime implements Runtime, ReplicaLogs, Metrics {
  /** What it removed, kept in view for a while: see `listRetired`. */
  private readonly retired = new RetiredReplicas();
  /** Containers this runtime has created and is starting: until the start has been asked, they are "created". */
  private readonly starting = new Set<string>();
  /**
   * Containers this runtime was asked to stop, until it removes them: Docker says they run until they have exited,
   * and the signals the engine sends them are Berth's.
   */
  private readonly stopping = new Set<string>();
  /** The signals the engine sent each container for someone else, by id (at most ten each, of a thousand). */
  private readonly signalled = new Map<string, string[]>();
  /** The network replicas join (replica-network.ts), found or made on the first start. */
  private network?: Promise<string>;
  /** A stats stream per running replica listed or sampled: Docker keeps no history of its own. */
  private readonly statsStreams = new StatsStreams(async (id) => {
    const stream = (await this.answered((abortSignal) => {
      const streamed = { stream: true as const, abortSignal };
      return this.docker.getContainer(id).stats(streamed);
    })) as unknown as IncomingMessage;
    // A stream lasts as long as its container runs: it never holds the process open.
    stream.socket?.unref();
    return stream;
  });

  /** How long the engine has to answer (engine-answer.ts). */
  private readonly answerMs: typeof ENGINE_ANSWER_MS;
  private readonly answered: Answered;
  /** The images replicas were started from, removed once unused (removeUnusedImages). */
  private readonly images: UnusedImages;

  /** When this machine booted (epoch ms), which the engine's containers cannot have outlived. */
  private readonly bootedAt: number | undefined;

  constructor(
    private readonly docker: Docker,
    private readonly installation: string,
    options: { answerMs?: typeof ENGINE_ANSWER_MS; bootedAt?: number } = {},
  ) {
    this.answerMs = options.answerMs ?? ENGINE_ANSWER_MS;
    this.bootedAt = options.bootedAt ?? bootTime();
    this.answered = answeredIn(this.answerMs);
    this.images = new UnusedImages(docker, this.answered);
  }

  /**
   * Removes the `collectable` digest references (the platform registry's) of images no container uses, but those a
   * start is using; returns how many. See UnusedImages.
   */
  removeUnusedImages(collectable: (reference: string) => boolean): Promise<number> {
    return this.images.collect(collectable);
  }

  async listReplicas(filter: { tenantId?: string; appUid?: string } = {}): Promise<Replica[]> {
    try {
      const label = [
        `${LABELS.installation}=${this.installation}`,
        ...(filter.tenantId ? [`${LABELS.tenant}=${filter.tenantId}`] : []),
        ...(filter.appUid ? [`${LABELS.appUid}=${filter.appUid}`] : []),
      ];
      const containers = await this.answered((abortSignal) =>
        this.docker.listContainers({ all: true, filters: { label }, abortSignal }),
      );
      const replicas = await Promise.all(
        containers.map((c) =>
          this.inspect(this.docker.getContainer(c.Id))
            .then((info) =>
              this.replicaOf(info, {
                starting: this.starting.has(info.Id),
                stopping: this.stopping.has(info.Id),
                signalledOutside: this.signalled.get(info.Id),
              }),
            )
            .catch((err) => (statusOf(err) === 404 ? undefined : Promise.reject(err))),
        ),
      );
      const found = replicas.filter((r): r is Replica => r !== undefined);
      // Each running replica's figures from when it is first seen (the reconciler lists what it starts at once, the
      // meter every replica each tick): its first sample answers at once, over as much of its life as asked.
      for (const replica of found) if (replica.state === 'running') this.statsStreams.watchNow(replica.id);
      return found;
    } catch (err) {
      return translate(err);
    }
  }

  /**
   * Kubernetes' default pull policy: `:latest` names whatever was pushed last, so it is pulled at every start (the
   * registry answers at once when nothing changed), as ECS pulls every task's; an image by digest or any other tag
   * is taken from the engine when it holds it.
   */
  private async ensureImage(spec: ReplicaSpec): Promise<void> {
    const image = fullImageName(spec.image);
    if (!image.endsWith(':latest')) {
      try {
        await this.answered(() => this.docker.getImage(image).inspect());
        return;
      } catch (err) {
        if (statusOf(err) !== 404) translate(err);
      }
    }
    const auth = spec.pullCredentials && {
      username: spec.pullCredentials.username,
      password: spec.pullCredentials.password,
      serveraddress: spec.pullCredentials.registry,
    };
    for (const wait of [...PULL_RETRY_WAITS_MS, undefined]) {
      const refused = await this.pull(image, auth);
      if (refused === undefined) return;
      if (wait === undefined || !registryUnreachable(refused)) throw pullFailure(image, refused);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  /** One pull of `image`: undefined once it is in the engine, else the engine's words for why it was not pulled. */
  private async pull(image: string, authconfig: Docker.AuthConfig | undefined): Promise<string | undefined> {
    let stream: Readable;
    try {
      // The engine refuses at once what it cannot even start to pull: a registry it cannot reach, say.
      stream = (await this.answered(
        (abortSignal) => this.docker.pull(image, { ...(authconfig ? { authconfig } : {}), abortSignal }),
        this.answerMs.pull,
      )) as Readable;
    } catch (err) {
      if (statusOf(err) === undefined) translate(err);
      return engineMessage(err);
    }
    return this.followPull(image, stream);
  }

  /**
   * A pull's progress to its end: undefined, or the engine's words for why it failed. One that shows none for
   * `pullProgress` ms is given up, as kubelet gives up a pull without progress: the engine waits for ever on a
   * registry that stops sending a layer part-way, which held the app's passes — its deployment, scaling and removal —
   * for as long.
   */
  private followPull(image: string, stream: Readable): Promise<string | undefined> {
    const stallMs = this.answerMs.pullProgress;
    return new Promise((resolve, reject) => {
      let stalled: NodeJS.Timeout | undefined;
      const progressed = () => {
        clearTimeout(stalled);
        stalled = setTimeout(() => {
          reject(pullFailure(image, `no progress for ${stallMs / 1000} s`));
          stream.destroy();
        }, stallMs);
      };
      progressed();
      this.docker.modem.followProgress(
        stream,
        (err: Error | null, events: { error?: string }[]) => {
          clearTimeout(stalled);
          resolve(err?.message || events.find((e) => e.error)?.error || undefined);
        },
        progressed,
      );
    });
  }

  async startReplica(spec: ReplicaSpec): Promise<Replica> {
    const container = await this.images.holding(fullImageName(spec.image), async () => {
      await this.ensureImage(spec);
      try {
        this.network ??= replicaNetwork(this.docker, this.answered);
        const network = await this.network;
        return await this.answered((abortSignal) =>
          this.docker.createContainer({ ...containerOptions(spec, this.installation, network), abortSignal }),
        );
      } catch (err) {
        // Looked up again next time: the network may have been removed, or never made.
        this.network = undefined;
        if (statusOf(err) === 409)
          throw new ConflictError(
            'conflict',
            `replica ${replicaName(spec, this.installation)} already exists`,
          );
        return translate(err);
      }
    });
    this.starting.add(container.id);
    try {
      await this.answered((abortSignal) => container.start({ abortSignal }));
    } catch (err) {
      // The engine answered: it keeps the container, with why it did not start, for the next pass to replace.
      if (statusOf(err) === undefined) translate(err);
    } finally {
      this.starting.delete(container.id);
    }
    return this.replicaOf(await this.inspect(container));
  }

  async stopReplica(id: string, graceSeconds: number): Promise<Replica | undefined> {
    const container = this.docker.getContainer(id);
    this.stopping.add(id);
    try {
      // The engine answers once the container has stopped: after its grace at most, and the kill.
      await this.answered(
        (abortSignal) => container.stop({ t: graceSeconds, abortSignal }),
        graceSeconds * 1000 + this.answerMs.call,
      );
    } catch (err) {
      // 304: already stopped; 404: already gone.
      if (statusOf(err) === 404) return this.forget(id);
      if (statusOf(err) !== 304) translate(err);
    }
    try {
      return this.replicaOf(await this.inspect(container));
    } catch (err) {
      if (statusOf(err) === 404) return this.forget(id);
      return translate(err);
    }
  }

  /**
   * Why nothing reaches the running replica on its port, told from what listens in its container (see
   * unreachableBecause), where the engine runs on this machine's kernel: the container's process is then among this
   * machine's, in the container's cgroup. Undefined where it cannot be told.
   */
  async unreachableBecause(replica: Replica): Promise<string | undefined> {
    if (!replica.endpoint) return undefined;
    try {
      const pid = (await this.inspect(this.docker.getContainer(replica.id))).State.Pid;
      if (!pid || !readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(replica.id)) return undefined;
      const listeners = listenersOf(`/proc/${pid}/net`);
      return listeners && unreachableBecause(listeners, replica.endpoint.port);
    } catch {
      return undefined;
    }
  }

  /**
   * Removes a replica's container with its anonymous volumes (those its image declares with `VOLUME`, which no
   * other replica can use: left, each replaced replica would leave its own behind); a stopped one stays in view
   * (`listRetired`) with its last log lines.
   */
  async removeReplica(id: string): Promise<void> {
    const container = this.docker.getContainer(id);
    try {
      const replica = this.replicaOf(await this.inspect(container), {
        signalledOutside: this.signalled.get(id),
      });
      // Its lines are a courtesy: a replica whose logs cannot be read is removed all the same.
      if (replica.state === 'exited')
        this.retired.add(replica, await this.lastLines(container).catch(() => []));
      await this.answered((abortSignal) => container.remove({ force: true, v: true, abortSignal }));
    } catch (err) {
      if (statusOf(err) !== 404 && statusOf(err) !== 409) translate(err);
    }
    this.forget(id);
  }

  /** Forgets what this runtime knew of a container that is gone. */
  private forget(id: string): undefined {
    this.stopping.delete(id);
    this.signalled.delete(id);
    return undefined;
  }

  /**
   * The engine sent a replica's container `signal` (its event): unless this runtime was asked to stop it, someone
   * else did (`docker stop`, `docker kill`), and if that was its stop signal or SIGKILL and it exits, it was stopped
   * outside Berth, no failure of its own.
   */
  signalledBy(id: string, signal: string): void {
    if (this.stopping.has(id)) return;
    const signals = this.signalled.get(id) ?? [];
    if (signals.length >= 10) return;
    if (signals.length === 0 && this.signalled.size >= 1000)
      this.signalled.delete(this.signalled.keys().next().value ?? '');
    this.signalled.set(id, [...signals, signal]);
  }

  /**
   * The replicas this process removed after they stopped, for an hour (at most 5 an app, newest first): the runtime
   * no longer has them, but the app's instances and logs still show how they ended.
   */
  listRetired(filter: ReplicaFilter = {}): Replica[] {
    return this.retired.list(filter);
  }

  /** A container as a replica (toReplica), as seen since this machine's boot. */
  private replicaOf(info: ContainerInspectInfo, seen: Omit<ReplicaSeen, 'bootedAt'> = {}) {
    return toReplica(info, { ...seen, bootedAt: this.bootedAt });
  }

  private inspect(container: Docker.Container): Promise<ContainerInspectInfo> {
    return this.answered((abortSignal) => container.inspect({ abortSignal }));
  }

  private async lastLines(container: Docker.Container): Promise<string[]> {
    const buffer = await this.answered((abortSignal) =>
      container.logs({
        stdout: true,
        stderr: true,
        timestamps: true,
        tail: RETIRED_LOG_LINES,
        follow: false,
        abortSignal,
      }),
    );
    const lines: string[] = [];
    for await (const line of logLines([buffer])) lines.push(line);
    return lines;
  }

  /**
   * Measured from each replica's stats stream (StatsStreams): CPU and memory over the last `windowSeconds` (10 s when
   * none is asked) or as much of it as the stream has seen. The window answered is the longest span a replica's
   * figures cover.
   */
  async replicaStats(replicas: Replica[], windowSeconds = LATEST_WINDOW_SECONDS): Promise<ReplicaSamples> {
    const sampled = await Promise.all(
      replicas.map(
        async (replica) => [replica.id, await this.replicaSample(replica, windowSeconds)] as const,
      ),
    );
    const found = sampled.filter(
      (entry): entry is readonly [string, { stats: ReplicaStats; spanMs: number }] => entry[1] !== undefined,
    );
    return {
      windowSeconds: Math.max(1, Math.round(Math.max(0, ...found.map(([, s]) => s.spanMs)) / 1000)),
      stats: new Map(found.map(([id, s]) => [id, s.stats])),
    };
  }

  private async replicaSample(
    replica: Replica,
    windowSeconds: number,
  ): Promise<{ stats: ReplicaStats; spanMs: number } | undefined> {
    const history = await this.statsStreams.history(replica.id).catch((err: unknown) => {
      // Removed, or stopped, meanwhile: no sample.
      if (statusOf(err) === 404 || statusOf(err) === 409) return undefined;
      return translate(err);
    });
    const used = history?.over(windowSeconds * 1000);
    if (!used) return undefined;
    const cpuLimit = replica.cpu || used.onlineCpus;
    const memoryLimit = replica.memoryMiB * MiB || used.memoryLimitBytes || 1;
    return {
      stats: {
        cpuPercent: Math.min(100, (used.cpus / cpuLimit) * 100),
        memoryMiB: used.memoryBytes / MiB,
        memoryPercent: Math.min(100, (used.memoryBytes / memoryLimit) * 100),
      },
      spanMs: used.spanMs,
    };
  }

  /** Ends the replicas' stats streams. */
  close(): void {
    this.statsStreams.close();
  }

  async *replicaLogs(replica: Replica, options: LogOptions): AsyncIterable<string> {
    const kept = this.retired.lines(replica, options);
    if (kept) {
      yield* kept;
      return;
    }
    const container = this.docker.getContainer(replica.id);
    const base = {
      stdout: true,
      stderr: true,
      timestamps: true,
      ...(options.tail !== undefined ? { tail: options.tail } : {}),
      ...(options.since ? { since: Math.floor(options.since.getTime() / 1000) } : {}),
    };
    let log: AsyncIterable<Buffer> | Buffer[];
    try {
      log = await this.multiplexedLog(container, base, options);
    } catch (err) {
      if (statusOf(err) === 404) return; // removed meanwhile: it has no more lines to give
      translate(err);
    }
    try {
      yield* logLines(log);
    } catch (err) {
      // A follow stopped on purpose ends its stream mid-read.
      if (!options.signal?.aborted) throw err;
    }
  }

  /**
   * The container's log as Docker sends it. A followed one is read only as fast as its reader asks, so a reader that
   * stops reading (a paused client) holds Docker back instead of the platform buffering the log; it ends when
   * `signal` aborts, even while no line comes.
   */
  private async multiplexedLog(
    container: Docker.Container,
    base: Record<string, unknown>,
    options: LogOptions,
  ): Promise<AsyncIterable<Buffer> | Buffer[]> {
    if (!options.follow)
      return [await this.answered((abortSignal) => container.logs({ ...base, follow: false, abortSignal }))];
    const stream = (await this.answered((abortSignal) =>
      container.logs({ ...base, follow: true, abortSignal }),
    )) as Readable;
    if (options.signal?.aborted) stream.destroy();
    else options.signal?.addEventListener('abort', () => stream.destroy(), { once: true });
    return stream;
  }
}
