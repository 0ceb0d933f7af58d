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

  return {
    token,

    /** Pushes a one-config, no-layer OCI image as `repository:tag` with `bearer`; its manifest digest. */
    async push(repository: string, tag: string, bearer: string): Promise<string> {
      const config = Buffer.from(
        JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
      );
      const configDigest = await uploadBlob(repository, bearer, config);
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: {
            mediaType: 'application/vnd.oci.image.config.v1+json',
            digest: configDigest,
            size: config.length,
          },
          layers: [],
        }),
      );
      const res = await fetch(`${base}/${repository}/manifests/${tag}`, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${bearer}`,
          'content-type': 'application/vnd.oci.image.manifest.v1+json',
        },
        body: manifest,
      });
      if (res.status !== 201) throw new Error(`manifest put: ${res.status} ${await res.text()}`);
      return `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
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
