/*
 * Which platforms an OCI or Docker image runs on, from what registries serve: an index (manifest list) names each of
 * its images' platforms; a single image names its own only in its config blob.
 */

/** The manifest media types Berth reads, in the `Accept` order registries honour. */
export const MANIFEST_MEDIA_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];

/** An OCI digest (`sha256:<hex>`), as the image spec's grammar has it: nothing a path could be made of. */
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** A config blob larger than this is not read: no image's config is anywhere near it (they hold a few KB). */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * An OCI `os` or `architecture` value (`linux`, `amd64`, `ppc64le`), which is also a Kubernetes label value. The
 * manifest and config are the tenant's, and what they name is kept with the revision and placed in a pod's node
 * affinity: anything else is not a platform.
 */
const PLATFORM_PART = /^[a-z0-9]([a-z0-9_-]{0,30}[a-z0-9])?$/;

/**
 * More platforms than any image is built for (buildx knows about ten): an index naming more says nothing Berth
 * keeps, so a revision's record never grows past what DynamoDB takes.
 */
export const MAX_PLATFORMS = 32;

interface PlatformFields {
  os?: unknown;
  architecture?: unknown;
}

interface Manifest {
  manifests?: { platform?: PlatformFields }[];
  config?: { digest?: unknown; size?: unknown };
}

/**
 * `os/architecture`, e.g. `linux/amd64`; undefined when either is missing, not a PLATFORM_PART, or `unknown` (an
 * attestation's).
 */
function platformOf(fields: PlatformFields | undefined): string | undefined {
  const { os, architecture } = fields ?? {};
  if (typeof os !== 'string' || typeof architecture !== 'string') return undefined;
  if (!PLATFORM_PART.test(os) || !PLATFORM_PART.test(architecture)) return undefined;
  if (os === 'unknown' || architecture === 'unknown') return undefined;
  return `${os}/${architecture}`;
}

/**
 * What a manifest says of its platforms: an index's list, or the config blob to read for a single image's (none when
 * its config is missing, larger than MAX_CONFIG_BYTES, or named by no digest — the manifest is the tenant's, and its
 * digest goes into a URL: the platform is then not known).
 */
function platformsInManifest(manifest: unknown): { platforms: string[] } | { configDigest: string } {
  const { manifests, config } = (manifest ?? {}) as Manifest;
  if (Array.isArray(manifests)) {
    const platforms = new Set(manifests.flatMap((m) => platformOf(m?.platform) ?? []));
    return { platforms: platforms.size > MAX_PLATFORMS ? [] : [...platforms] };
  }
  const digest = config?.digest;
  const size = config?.size;
  if (typeof digest !== 'string' || !DIGEST.test(digest)) return { platforms: [] };
  if (typeof size === 'number' && size > MAX_CONFIG_BYTES) return { platforms: [] };
  return { configDigest: digest };
}

/** The platform a single image's config blob names, as a list of one; none when it names none. */
function platformsInConfig(config: unknown): string[] {
  const platform = platformOf((config ?? {}) as PlatformFields);
  return platform ? [platform] : [];
}

/**
 * The body of a config blob, or undefined when it is larger than MAX_CONFIG_BYTES or not JSON: read as it streams,
 * so a blob that says nothing of its length is not held whole when it is too large.
 */
async function readConfigBlob(res: Response): Promise<unknown> {
  if (!res.body) return undefined;
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for await (const chunk of res.body) {
    bytes += chunk.byteLength;
    // Leaving the loop cancels the stream.
    if (bytes > MAX_CONFIG_BYTES) return undefined;
    chunks.push(chunk);
  }
  return parseJson(Buffer.concat(chunks).toString('utf8'));
}

/** A manifest's or config's JSON; undefined for one that is not JSON, whose platforms are then not known. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The platforms an image is built for, from its manifest (`manifest`, as the registry serves it): an index's, or a
 * single image's from its config blob, which `configBlob` fetches by digest (undefined when the registry has none).
 * Empty when they say nothing of it.
 */
export async function platformsOfImage(
  manifest: string,
  configBlob: (digest: string) => Promise<Response | undefined>,
): Promise<string[]> {
  const found = platformsInManifest(parseJson(manifest));
  if ('platforms' in found) return found.platforms;
  const config = await configBlob(found.configDigest);
  return config ? platformsInConfig(await readConfigBlob(config)) : [];
}
