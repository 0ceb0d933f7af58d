import type Docker from 'dockerode';

/** Makes `docker` hand out each container through `wrap` first: to count or spy on what a test asks the engine. */
export function wrapContainers(docker: Docker, wrap: (container: Docker.Container) => void): Docker {
  const getContainer = docker.getContainer.bind(docker);
  docker.getContainer = (id) => {
    const container = getContainer(id);
    wrap(container);
    return container;
  };
  return docker;
}
