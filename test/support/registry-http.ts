import { createHash } from 'node:crypto';

/**
 * The distribution registry's HTTP API spoken directly, with a token from Berth's token service: what the docker CLI
 * does, in steps a test can put something between (a token taken, then the repository deleted, then the push).
 */
export function registryHttp(options: { api: string; registry: string; username: string; password: string }) {
  const basic = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
  const base = `http://${options.registry}/v2`;

  /** A token for `scope` (`repository:<path>:<actions>`); throws with the token service's answer when refused. */
  async function token(scope: string): Promise<string> {
    const res = await fetch(`${options.api}/registry/auth?service=berth&scope=${encodeURIComponent(scope)}`, {
      headers: { authorization: basic },
    });
    if (!res.ok) throw new Error(`token for ${scope}: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { token: string }).token;
  }

  async function uploadBlob(repository: string, bearer: string, content: Buffer): Promise<string> {
    const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
    const started = await fetch(`${base}/${repository}/blobs/uploads/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}` },
    });
    const location = started.headers.get('location');
    if (started.status !== 202 || !location) throw new Error(`blob upload: ${started.status}`);
    const url = new URL(location, base);
    url.searchParams.set('digest', digest);
    const put = await fetch(url, {
      method: 'PUT',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/octet-stream' },
      body: content,
    });
    if (put.status !== 201) throw new Error(`blob put: ${put.status} ${await put.text()}`);
    return digest;
  }

  async function putManifest(
    repository: string,
    tag: string,
    bearer: string,
    mediaType: string,
    manifest: object,
  ): Promise<{ digest: string; size: number }> {
    const body = Buffer.from(JSON.stringify(manifest));
    const res = await fetch(`${base}/${repository}/manifests/${tag}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': mediaType },
      body,
    });
    if (res.status !== 201) throw new Error(`manifest put: ${res.status} ${await res.text()}`);
    return { digest: `sha256:${createHash('sha256').update(body).digest('hex')}`, size: body.length };
  }

  /** A one-config, no-layer OCI image built for `platform` (`os/architecture`), as `repository:tag`. */
  async function pushImage(repository: string, tag: string, bearer: string, platform: string) {
    const [os, architecture] = platform.split('/');
    const config = Buffer.from(
      JSON.stringify({ architecture, os, rootfs: { type: 'layers', diff_ids: [] } }),
    );
    const configDigest = await uploadBlob(repository, bearer, config);
    return putManifest(repository, tag, bearer, 'application/vnd.oci.image.manifest.v1+json', {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: configDigest,
        size: config.length,
      },
      layers: [],
    });
  }

  return {
    token,

    /**
     * Pushes a one-config, no-layer OCI image built for `platform` (`os/architecture`) as `repository:tag` with
     * `bearer`; its manifest digest.
     */
    async push(repository: string, tag: string, bearer: string, platform = 'linux/amd64'): Promise<string> {
      return (await pushImage(repository, tag, bearer, platform)).digest;
    },

    /**
     * Pushes an OCI index of one image per platform (`unknown/unknown` stands for a build attestation, as buildx
     * adds) as `repository:tag`; its digest.
     */
    async pushIndex(repository: string, tag: string, bearer: string, platforms: string[]): Promise<string> {
      const manifests = [];
      for (const platform of platforms) {
        const image = await pushImage(repository, `part-${manifests.length}`, bearer, platform);
        const [os, architecture] = platform.split('/');
        manifests.push({
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...image,
          platform: { os, architecture },
        });
      }
      const index = await putManifest(repository, tag, bearer, 'application/vnd.oci.image.index.v1+json', {
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests,
      });
      return index.digest;
    },

    /** The registry's status for a manifest, read with a pull token. */
    async manifestStatus(repository: string, reference: string): Promise<number> {
      const bearer = await token(`repository:${repository}:pull`);
      const res = await fetch(`${base}/${repository}/manifests/${reference}`, {
        method: 'HEAD',
        headers: { authorization: `Bearer ${bearer}`, accept: 'application/vnd.oci.image.manifest.v1+json' },
      });
      return res.status;
    },
  };
}
