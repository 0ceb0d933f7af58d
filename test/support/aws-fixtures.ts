import type { LoadBalancerShard } from '../../functions/adapters/alb/alb-app-routes.ts';

/** A shared load balancer of an install: its HTTPS listener, DNS name and canonical zone. */
export const SHARD: LoadBalancerShard = {
  listenerArn: 'arn:listener',
  dnsName: 'apps-1.eu-west-1.elb.amazonaws.com',
  zoneId: 'Z32O12XQLNTSW2',
};
