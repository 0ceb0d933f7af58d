import { vi } from 'vitest';
import type { LoadBalancerShard } from '../../functions/adapters/alb/alb-app-routes.ts';
import type { FargateSettings } from '../../functions/adapters/fargate/task-requests.ts';

/** A shared load balancer of an install: its HTTPS listener. */
export const SHARD: LoadBalancerShard = {
  listenerArn:
    'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/apps-1/50dc6c495c0c9188/f2f7dc8efc522ab2',
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

/** A Lambda's credentials, AWS's documentation example: what an EKS token is signed with (SigV4, offline). */
export function stubLambdaCredentials() {
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAIOSFODNN7EXAMPLE');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
}
