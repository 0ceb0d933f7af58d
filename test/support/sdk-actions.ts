import { join } from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import { build } from 'esbuild';
import { handlerBuildOptions } from '../../infra/handler-bundling.ts';

const ROOT = join(import.meta.dirname, '../..');

/** The IAM service prefix of each SDK client package Berth bundles (not always its signing name: CloudWatch's). */
const IAM_PREFIX: Record<string, string> = {
  'client-cloudwatch': 'cloudwatch',
  'client-cloudwatch-logs': 'logs',
  'client-ecr': 'ecr',
  'client-ecs': 'ecs',
  'client-eks': 'eks',
  'client-elastic-load-balancing-v2': 'elasticloadbalancing',
  'client-route-53': 'route53',
  'client-s3': 's3',
  'client-sqs': 'sqs',
  'client-sts': 'sts',
};

/**
 * What IAM authorizes for a command where that is not just the action of its name, from each service's IAM
 * reference: a transaction's items as their own writes, a batch as its single action, tags given at creation as
 * tagging, a task definition's roles as passed, and the service-linked role ECS makes on its first service.
 */
const AUTHORIZED_AS: Record<string, string[]> = {
  'dynamodb:TransactWriteItems': [
    'dynamodb:ConditionCheckItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
  ],
  'sqs:SendMessageBatch': ['sqs:SendMessage'],
  'ecs:CreateService': ['ecs:CreateService', 'ecs:TagResource', 'iam:CreateServiceLinkedRole'],
  'ecs:RegisterTaskDefinition': ['ecs:RegisterTaskDefinition', 'ecs:TagResource', 'iam:PassRole'],
  'elasticloadbalancing:CreateTargetGroup': [
    'elasticloadbalancing:CreateTargetGroup',
    'elasticloadbalancing:AddTags',
  ],
  'elasticloadbalancing:CreateRule': ['elasticloadbalancing:CreateRule', 'elasticloadbalancing:AddTags'],
  'ecr:CreateRepository': ['ecr:CreateRepository', 'ecr:TagResource'],
};

const COMMAND_MODULE = /@aws-sdk\/(client-[\w-]+)\/dist-es\/commands\/(\w+)Command\.js$/;
/** Berth's own DynamoDB client (no SDK) names each operation it sends in its `call`. */
const DYNAMODB_CLIENT = /functions\/adapters\/dynamodb\/dynamodb-http\.ts$/;
const DYNAMODB_CALL = /\.call\("([A-Z]\w+)"/g;

/**
 * The IAM actions a handler's bundle can be authorized for: each AWS SDK command esbuild keeps in it (bundled with
 * the options the CDK app uses, `define` included), and each operation its code hands Berth's DynamoDB client, as
 * IAM names what it checks. Kept is not sent: a command of an adapter the handler builds but never calls is in too.
 */
export async function actionsBundledIn(entry: string, define: Record<string, string>): Promise<string[]> {
  const { metafile, outputFiles } = await build({
    ...handlerBuildOptions(define),
    entryPoints: [join(ROOT, entry)],
    outdir: join(ROOT, 'cdk.out', 'sdk-actions'),
    write: false,
    metafile: true,
  });
  const actions = new Set<string>();
  const add = (action: string) => {
    for (const authorized of AUTHORIZED_AS[action] ?? [action]) actions.add(authorized);
  };
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, input] of Object.entries(output.inputs)) {
      const [, client = '', command = ''] = path.match(COMMAND_MODULE) ?? [];
      if (!client || input.bytesInOutput === 0) continue;
      const prefix = IAM_PREFIX[client];
      if (!prefix) throw new Error(`${entry} bundles @aws-sdk/${client}: add its IAM prefix to IAM_PREFIX`);
      add(`${prefix}:${command}`);
    }
  }
  if (Object.keys(metafile.inputs).some((path) => DYNAMODB_CLIENT.test(path))) {
    for (const file of outputFiles) {
      for (const [, operation] of file.text.matchAll(DYNAMODB_CALL)) add(`dynamodb:${operation}`);
    }
  }
  return [...actions].sort();
}

type PolicyResource = {
  Properties: {
    Roles?: { Ref: string }[];
    PolicyDocument: { Statement: { Effect: string; Action: string | string[]; Resource: unknown }[] };
  };
};

/**
 * The actions the policies of role `roleId` allow, wildcards and all: on `resource` (a resolved ARN) where given,
 * else on whatever resources.
 */
export function actionsAllowedTo(template: Template, roleId: string, resource?: unknown): string[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as PolicyResource[];
  const on = JSON.stringify(resource);
  return policies
    .filter((p) => p.Properties.Roles?.some((r) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement)
    .filter((s) => s.Effect === 'Allow')
    .filter(
      (s) => resource === undefined || [s.Resource].flat().some((r) => r === '*' || JSON.stringify(r) === on),
    )
    .flatMap((s) => [s.Action].flat());
}

/** Whether an allowed action (`ecs:Describe*`) covers `action`. */
export const covers = (allowed: string, action: string) =>
  new RegExp(`^${allowed.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`, 'i').test(action);
