/** What dockerode rejects with: the engine's HTTP status, or a socket error's code. */
export interface DockerError {
  statusCode?: number;
  code?: string;
  message?: string;
}

/** The engine's HTTP status of a failed call; undefined when the engine never answered. */
export const statusOf = (err: unknown) => (err as DockerError).statusCode;

/** What the engine said of a failed call, without the "(HTTP code 500) server error - " docker-modem puts first. */
export const engineMessage = (err: unknown) =>
  ((err as DockerError).message ?? '').replace(/^\(HTTP code \d+\) [^-]* - /, '');
