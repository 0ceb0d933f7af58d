import { isIP } from 'node:net';
import type { RuntimeName } from '../../schemas/app.ts';
import { type ParsedImageReference, parseImageReference } from '../../schemas/image-reference.ts';
import { ValidationError } from './errors.ts';
import type {
  AppRecord,
  HostResolver,
  ImageRegistry,
  PageRequest,
  RegistryDeps,
  RevisionRecord,
} from './ports.ts';
import { isPublicAddress } from './public-address.ts';
import { allItems } from './walk.ts';

/** The platform's own registry: how image references name it, and where each tenant's repositories live. */
export interface PlatformRegistryAddress {
  /** e.g. `127.0.0.1:5000`, or `<account>.dkr.ecr.<region>.amazonaws.com`. */
  host: string;
  /**
   * Where the registry listened before (a local registry moved to another port): revisions made then name it so, and
   * are still the platform's images, pulled from `host` now.
   */
  formerHosts?: readonly string[];
  /** The repository path prefix of a tenant, e.g. `acme/` or `berth/acme/`. */
  namespaceOf(tenantId: string): string;
}

const INTERNAL_SUFFIXES = [
  '.localhost',
  '.local',
  '.internal',
  '.localdomain',
  '.home.arpa',
  '.intranet',
  '.lan',
];

function invalid(image: string, why: string): ValidationError {
  const message = `image "${image}" ${why}`;
  return new ValidationError(message, [{ path: 'image', message }]);
}

/** The host of `registry` (without port), lowercased, IPv6 brackets removed. */
function hostOf(registry: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(registry);
  return (bracketed?.[1] ?? registry.replace(/:\d+$/, '')).toLowerCase();
}

/**
 * A last label no DNS name has (top-level domains are never numbers): a host ending in one is an address in one of
 * the shorthand forms resolvers accept (`10.1` is 10.0.0.1, `0x7f.1` is 127.0.0.1).
 */
const NUMERIC_LABEL = /^(?:\d+|0x[0-9a-f]*)$/;

/** An ECR registry host in any of its endpoint forms (FIPS, dual-stack): its account is group 1. */
const ECR_HOST = /^(\d{12})\.dkr[.-]ecr(?:-fips)?\.[a-z0-9-]+\.(?:amazonaws\.com(?:\.cn)?|on\.aws)$/;

/**
 * Whether `registry` names the platform registry at `local.host` or where it listened before: the same host,
 * `localhost` for a local one on 127.0.0.1, and any name of the same account's ECR, whose images the platform pulls
 * with the same rights.
 */
function namesPlatformRegistry(
  registry: string,
  local: Pick<PlatformRegistryAddress, 'host' | 'formerHosts'>,
) {
  const named = (host: string) =>
    registry === host || registry === host.replace(/^127\.0\.0\.1:/, 'localhost:');
  if (named(local.host) || local.formerHosts?.some(named)) return true;
  const account = ECR_HOST.exec(hostOf(registry))?.[1];
  return account !== undefined && account === ECR_HOST.exec(local.host)?.[1];
}

/** The name by which `image` names the platform registry (where it listens or listened, by any name), if it does. */
export function platformRegistryOf(
  image: string,
  local: Pick<PlatformRegistryAddress, 'host' | 'formerHosts'>,
): string | undefined {
  const registry = parseImageReference(image)?.registry?.toLowerCase();
  return registry !== undefined && namesPlatformRegistry(registry, local) ? registry : undefined;
}

/**
 * A platform registry's image as pulled now, from where the registry listens, by whichever of its names (or former
 * addresses) the image calls it; undefined for another registry's image.
 */
export function platformPull(
  image: string,
  local: Pick<PlatformRegistryAddress, 'host' | 'formerHosts'>,
): string | undefined {
  const named = platformRegistryOf(image, local);
  return named === undefined ? undefined : `${local.host}${image.slice(named.length)}`;
}

/**
 * Checks where an image comes from before anything touches the network: the platform registry, by any of its names
 * (only the tenant's own `<tenant>/…` repositories), or a public registry by DNS name. IP literals, loopback and
 * internal names (metadata services, private ranges, other local ports) are refused, so an image reference cannot
 * make the platform reach into its own network; resolveImage also refuses a name that resolves there.
 */
export function checkImageSource(
  image: string,
  tenantId: string,
  local: PlatformRegistryAddress,
): ParsedImageReference & { local: boolean } {
  const parsed = parseImageReference(image);
  if (!parsed) throw invalid(image, 'is not an OCI image reference');
  const registry = parsed.registry?.toLowerCase();
  if (registry !== undefined && namesPlatformRegistry(registry, local)) {
    const namespace = local.namespaceOf(tenantId);
    if (!parsed.repository.startsWith(namespace)) {
      throw invalid(image, `is in the platform registry but not under your namespace "${namespace}"`);
    }
    return { ...parsed, local: true };
  }
  if (registry !== undefined) {
    const host = hostOf(registry);
    if (isIP(host) || NUMERIC_LABEL.test(host.split('.').at(-1) ?? ''))
      throw invalid(
        image,
        `names a registry by IP address (${host}); use the platform registry ${local.host} or a public registry by DNS name`,
      );
    if (host === 'localhost' || !host.includes('.') || INTERNAL_SUFFIXES.some((s) => host.endsWith(s))) {
      throw invalid(
        image,
        `names an internal registry host "${host}"; use the platform registry ${local.host} or a public registry`,
      );
    }
  }
  return { ...parsed, local: false };
}

/**
 * Refuses a registry host that resolves to an address off the public internet: a name pointed at loopback, a private
 * network or a metadata service would otherwise get around checkImageSource's refusal of IP literals and internal
 * names. So is a name under a private domain of the apps' network, which resolves there as it does not here (or
 * not at all). A name that does not resolve is let through: the runtime's pull cannot reach it either. What a name
 * resolves to when the runtime pulls, later, is the runtime's to see (see the Docker adapter's pull errors).
 */
async function assertPublicHost(hosts: HostResolver, image: string, host: string): Promise<void> {
  const privateDomain = await hosts.privateDomainOf(host);
  if (privateDomain !== undefined) {
    throw invalid(
      image,
      `names registry host "${host}", which the apps' network resolves privately (${privateDomain}); use the platform registry or a public one`,
    );
  }
  const inside = (await hosts.addressesOf(host)).filter((address) => !isPublicAddress(address));
  if (inside.length > 0) {
    throw invalid(
      image,
      `names registry host "${host}", which resolves to ${inside.join(', ')}, off the public internet; use the platform registry or a public one`,
    );
  }
}

/**
 * Refuses (400) an image of another registry whose host the runtimes' network would resolve into itself
 * (assertPublicHost): when a revision is made, and again when one is rolled back to, as a name can move meanwhile.
 */
export async function checkOtherRegistryHost(
  hosts: HostResolver,
  image: string,
  source: ParsedImageReference,
): Promise<void> {
  if (source.registry !== undefined) await assertPublicHost(hosts, image, hostOf(source.registry));
}

/** What a new revision pins of its image: the digest it resolved to, and the platforms it is built for. */
export interface ResolvedImage {
  digest: string | null;
  /** As the platform registry says (none said is null); null for an image from elsewhere, which is never fetched. */
  platforms: string[] | null;
}

/**
 * What a new revision of the app `appUid` on `runtime` pins of `image`: for the platform registry the tag's current
 * digest (400 when it was never pushed, or is built for none of the runtime's platforms), held for the app
 * (holdImage), and the platforms it is built for; elsewhere the reference's own digest, or null (the runtime
 * resolves it when it pulls).
 */
export async function resolveImage(
  deps: RegistryDeps,
  tenantId: string,
  appUid: string,
  image: string,
  runtime: RuntimeName,
): Promise<ResolvedImage> {
  const source = checkImageSource(image, tenantId, deps.registry);
  if (!source.local) {
    await checkOtherRegistryHost(deps.hosts, image, source);
    return { digest: source.digest ?? null, platforms: null };
  }
  const found = await platformImageAt(deps.registry, source);
  if (!found) throw invalid(image, 'was not found in the platform registry; push it first');
  const { digest, platforms } = found;
  const runsOn = deps.platforms?.[runtime];
  if (runsOn?.[0] && platforms.length > 0 && !platforms.some((p) => runsOn.includes(p))) {
    // The runtime could not start it: an exec format error after the pull, and a failed deployment.
    throw invalid(
      image,
      `is built for ${platforms.join(', ')}, but apps on ${runtime} run on ${runsOn.join(' or ')}: build it for ${runsOn[0]} (docker build --platform ${runsOn[0]}) and push it again`,
    );
  }
  await deps.registry.holdImage(source.repository, digest, appUid);
  return { digest, platforms: platforms.length > 0 ? platforms : null };
}

/**
 * Lets go of the platform registry's images the app's revisions pinned (resolveImage held them), as the app is
 * deleted: an image no other app holds may then expire.
 */
export async function releaseAppImages(
  deps: RegistryDeps,
  app: Pick<AppRecord, 'tenantId' | 'uid'>,
): Promise<void> {
  const held = new Map<string, Set<string>>();
  const revisions = allItems((page) => deps.store.listRevisions(app.tenantId, app.uid, page));
  for await (const { image, imageDigest } of revisions) {
    const repository = platformRepositoryOf(image, app.tenantId, deps.registry);
    if (repository === undefined || !imageDigest) continue;
    held.set(repository, (held.get(repository) ?? new Set()).add(imageDigest));
  }
  for (const [repository, digests] of held) {
    await deps.registry.releaseImages(repository, [...digests], app.uid);
  }
}

/**
 * How many of an app's newest revisions keep their images held, beside the one it runs and the one it was moving to:
 * as many as a Kubernetes Deployment keeps for `kubectl rollout undo`.
 */
export const HELD_REVISIONS = 10;

/**
 * Lets go of the image of the revision that `app`'s newest, just made, has pushed out of its newest HELD_REVISIONS:
 * one a revision made, so each is let go of once, and held images stay bounded however often an app deploys (ECR
 * would keep each for as long as the app lives, billed, and past its lifecycle policy's ten thousand expire the
 * oldest held, run or not). Not when the app runs that revision or was moving to it (`movingFrom`, the target before
 * the write), nor when a revision still held pins the same image. An older revision stays listed; a rollback to it
 * holds its image again while the registry has it (checkRevisionImage).
 */
export async function releaseRevisionLeftBehind(
  deps: RegistryDeps,
  app: AppRecord,
  movingFrom: number,
): Promise<void> {
  const leaving = app.latestRevision - HELD_REVISIONS;
  // It follows a write that is made and answered as such: should it fail, the image is only kept longer (until the
  // app's deletion lets go of all it holds), and the operator is told.
  await releaseLeftBehind(deps, app, leaving, movingFrom).catch((err: unknown) =>
    deps.logger.error('could not let go of the image of a revision an app no longer holds', {
      tenantId: app.tenantId,
      app: app.name,
      revision: leaving,
      error: err,
    }),
  );
}

async function releaseLeftBehind(deps: RegistryDeps, app: AppRecord, leaving: number, movingFrom: number) {
  const inUse = [app.currentRevision, movingFrom].filter((n): n is number => n !== null);
  if (leaving < 1 || inUse.includes(leaving)) return;
  const left = await deps.store.getRevision(app.tenantId, app.uid, leaving);
  const repository = left && platformRepositoryOf(left.image, app.tenantId, deps.registry);
  if (!left?.imageDigest || repository === undefined) return;
  const newest: RevisionRecord[] = [];
  const revisions = (page: PageRequest) => deps.store.listRevisions(app.tenantId, app.uid, page);
  for await (const revision of allItems(revisions, HELD_REVISIONS)) {
    if (newest.push(revision) === HELD_REVISIONS) break;
  }
  const older = inUse.filter((n) => !newest.some((r) => r.number === n));
  const held = [
    ...newest,
    ...(await Promise.all(older.map((n) => deps.store.getRevision(app.tenantId, app.uid, n)))),
  ];
  const stillHeld = held.some(
    (r) =>
      r?.imageDigest === left.imageDigest &&
      platformRepositoryOf(r.image, app.tenantId, deps.registry) === repository,
  );
  if (!stillHeld) await deps.registry.releaseImages(repository, [left.imageDigest], app.uid);
}

/** Lets go of the image resolveImage held for a revision of the app that was never written. */
export async function releaseImage(
  deps: RegistryDeps,
  tenantId: string,
  appUid: string,
  image: string,
  digest: string | null,
): Promise<void> {
  const repository = platformRepositoryOf(image, tenantId, deps.registry);
  if (repository !== undefined && digest) await deps.registry.releaseImages(repository, [digest], appUid);
}

/**
 * The platform registry's repository of an image a revision pinned; undefined for another registry's, and for one
 * that no longer passes checkImageSource (the platform registry moved since), which nothing could have held here.
 */
function platformRepositoryOf(image: string, tenantId: string, registry: PlatformRegistryAddress) {
  try {
    const source = checkImageSource(image, tenantId, registry);
    return source.local ? source.repository : undefined;
  } catch (err) {
    if (err instanceof ValidationError) return undefined;
    throw err;
  }
}

/** What the platform registry holds at a reference to it: by its digest, else its tag, else `latest`. */
export function platformImageAt(registry: Pick<ImageRegistry, 'imageAt'>, source: ParsedImageReference) {
  return registry.imageAt(source.repository, source.digest ?? source.tag ?? 'latest');
}

/** The image a revision runs: its reference pinned to the digest resolved when it was made, where there is one. */
export function pinnedImage(revision: Pick<RevisionRecord, 'image' | 'imageDigest'>): string {
  if (!revision.imageDigest) return revision.image;
  const withoutTag = revision.image.replace(/@.*$/, '').replace(/:[^/:]+$/, '');
  return `${withoutTag}@${revision.imageDigest}`;
}
