import type { HealthCheck } from '../../../schemas/app.ts';

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/**
 * How long the load balancer lets a leaving replica finish the requests it has (its deregistration delay): as long as
 * ECS and Kubernetes give a stopping container before they kill it, not ALB's default of 300 s, which every rollout,
 * scale-in and deletion would wait out (and the old replicas be billed for).
 */
export const TARGET_DRAIN_SECONDS = 30;

/**
 * How long an app's connection may carry nothing before its load balancer closes it, unless the install says
 * otherwise (`appIdleTimeoutSeconds`; locally BERTH_APP_IDLE_TIMEOUT_SECONDS): ALB's own default.
 */
export const DEFAULT_IDLE_TIMEOUT_SECONDS = 60;

/**
 * The app's health check as the load balancer runs it (ALB checks are HTTP only): its path, or any HTTP answer on
 * `/` when the app names none; ALB's bounds applied (interval 5-300 s, timeout below the interval, thresholds 2-10).
 * With none named, API.md's defaults but for the timeout, ALB's 5 s for an HTTP check: the app asked only that its port
 * take a connection, which 2 s allows, not that `/` answer within them.
 * The same for an app on Fargate (its target group) and on EKS (its Ingress, for the load balancer controller).
 */
export function targetGroupHealthCheck(check: HealthCheck | null) {
  const interval = clamp(check?.intervalSeconds ?? 10, 5, 300);
  return {
    HealthCheckPath: check?.path ?? '/',
    Matcher: { HttpCode: check?.path ? '200-399' : '200-499' },
    HealthCheckIntervalSeconds: interval,
    HealthCheckTimeoutSeconds: clamp(check?.timeoutSeconds ?? 5, 2, interval - 1),
    HealthyThresholdCount: clamp(check?.healthyThreshold ?? 2, 2, 10),
    UnhealthyThresholdCount: clamp(check?.unhealthyThreshold ?? 3, 2, 10),
  };
}
