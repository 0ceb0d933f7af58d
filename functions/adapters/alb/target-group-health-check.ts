import type { HealthCheck } from '../../../schemas/app.ts';

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/**
 * The app's health check as the load balancer runs it (ALB checks are HTTP only): its path, or any HTTP answer on
 * `/` when the app names none; ALB's bounds applied (interval 5-300 s, timeout below the interval, thresholds 2-10).
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
