/**
 * What a sweep of workloads whose app is gone will not believe: more than half of them orphaned, more than two. Apps
 * are deleted through their workloads, never en masse around them, so that many says the table is not the one they
 * were made from (a misconfigured install, a restore from long ago, another data directory): a sweep then removes
 * nothing and says so.
 */
export const mostlyOrphaned = (orphans: number, held: number) => orphans > 2 && orphans > held / 2;
