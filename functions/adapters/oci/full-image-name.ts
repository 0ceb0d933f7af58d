import { parseImageReference } from '../../../schemas/image-reference.ts';

const DOCKER_HUB = 'docker.io';

/**
 * `image` as a node's container engine must be given it: with Docker's defaults spelled out (`docker.io`, `library/`,
 * `:latest`). Given as typed, `a9f399d67d0b` or `sha256:a9f399d67d0b` names an image on Docker Hub to Berth and to
 * every registry, but Docker Engine takes it for the id of any image it holds whose id starts so, and containerd (a
 * Kubernetes node's) takes `sha256:<64 hex>` so: an image another tenant's app had pulled onto the machine, say,
 * which no registry would let this tenant pull.
 *
 * @example
 * fullImageName('nginx') // 'docker.io/library/nginx:latest'
 * fullImageName('127.0.0.1:5000/acme/web@sha256:…') // unchanged
 */
export function fullImageName(image: string): string {
  const ref = parseImageReference(image);
  if (!ref) throw new Error(`"${image}" is not an image reference`);
  const registry =
    ref.registry === undefined || ref.registry === 'index.docker.io' ? DOCKER_HUB : ref.registry;
  const repository =
    registry === DOCKER_HUB && !ref.repository.includes('/') ? `library/${ref.repository}` : ref.repository;
  const tag = ref.tag ?? (ref.digest ? undefined : 'latest');
  return `${registry}/${repository}${tag ? `:${tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}
