/**
 * The Linux capabilities every runtime takes from an app's containers: NET_RAW (raw sockets, for forged packets),
 * the one of the container runtimes' default set that Kubernetes' baseline Pod Security Standard leaves out. The
 * same on Docker, Fargate (which may drop any) and EKS, so an app that runs locally runs the same everywhere: one
 * that binds port 80 or changes user as root works on each, and raw sockets work on none.
 */
export const DROPPED_CAPABILITIES: readonly string[] = ['NET_RAW'];
