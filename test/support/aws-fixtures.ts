import type { LoadBalancerShard } from '../../functions/adapters/alb/alb-app-routes.ts';
import type { FargateSettings } from '../../functions/adapters/fargate/task-requests.ts';

/** A shared load balancer of an install: its HTTPS listener, DNS name and canonical zone. */
export const SHARD: LoadBalancerShard = {
  listenerArn: 'arn:listener',
  dnsName: 'apps-1.eu-west-1.elb.amazonaws.com',
  zoneId: 'Z32O12XQLNTSW2',
};

/** Where an install's Fargate tasks run, and as whom. */
export const FARGATE_SETTINGS: FargateSettings = {
  cluster: 'berth',
  subnets: ['subnet-a'],
  securityGroups: ['sg-apps'],
  executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
  taskRoleArn: 'arn:aws:iam::123456789012:role/nothing',
  logGroup: '/berth/apps',
  region: 'eu-west-1',
};
