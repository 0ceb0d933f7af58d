/*
 * The longest value CloudFormation can give each reference a Lambda's environment holds, so that a test can tell the
 * most an install's environment may come to once deployed (Lambda takes 4 KB of it).
 */

type Resources = Record<string, { Type: string }>;

/** A name CloudFormation makes up for a resource: `<stack>-<logical id>-<13 random characters>`, cut at `limit`. */
const generatedName = (stack: string, logicalId: string, limit: number) =>
  `${stack}-${logicalId}-${'X'.repeat(13)}`.slice(0, limit);

/** The most characters each service takes in a name CloudFormation generates. */
const NAME_LIMITS: Record<string, number> = {
  'AWS::ECS::Cluster': 255,
  'AWS::Logs::LogGroup': 512,
  'AWS::S3::Bucket': 63,
  'AWS::EKS::Cluster': 100,
  'Custom::AWSCDK-EKS-Cluster': 100,
};

/** An id of an EC2 resource: its prefix and 17 hexadecimal digits. */
const ec2Id = (prefix: string) => `${prefix}-${'f'.repeat(17)}`;

/** An ALB's name: CloudFormation's are 32 characters at most. */
const ALB_NAME = 'A'.repeat(32);

export interface Place {
  stack: string;
  region: string;
  account: string;
}

/** The longest value `Ref` of `logicalId` resolves to. */
function ref(logicalId: string, resources: Resources, at: Place): string {
  if (logicalId === 'AWS::AccountId') return at.account;
  if (logicalId === 'AWS::Region') return at.region;
  if (logicalId === 'AWS::Partition') return 'aws';
  if (logicalId === 'AWS::URLSuffix') return 'amazonaws.com';
  const type = resources[logicalId]?.Type ?? 'no such resource';
  if (type === 'AWS::EC2::Subnet') return ec2Id('subnet');
  if (type === 'AWS::EC2::VPC') return ec2Id('vpc');
  if (type === 'AWS::SQS::Queue')
    return `https://sqs.${at.region}.amazonaws.com/${at.account}/${generatedName(at.stack, logicalId, 80)}`;
  if (type === 'AWS::ElasticLoadBalancingV2::Listener')
    return `arn:aws:elasticloadbalancing:${at.region}:${at.account}:listener/app/${ALB_NAME}/${'f'.repeat(16)}/${'f'.repeat(16)}`;
  const limit = NAME_LIMITS[type];
  if (limit) return generatedName(at.stack, logicalId, limit);
  throw new Error(`no longest value for a Ref of ${logicalId} (${type})`);
}

/** The longest value `Fn::GetAtt` of `logicalId.attribute` resolves to. */
function getAtt(logicalId: string, attribute: string, resources: Resources, at: Place): string {
  const type = resources[logicalId]?.Type ?? 'no such resource';
  if (attribute === 'GroupId') return ec2Id('sg');
  if (type === 'AWS::IAM::Role' && attribute === 'Arn')
    return `arn:aws:iam::${at.account}:role/${generatedName(at.stack, logicalId, 64)}`;
  if (type === 'AWS::Lambda::Function' && attribute === 'Arn')
    return `arn:aws:lambda:${at.region}:${at.account}:function:${generatedName(at.stack, logicalId, 64)}`;
  if (attribute === 'DNSName') return `${ALB_NAME}-${'9'.repeat(10)}.${at.region}.elb.amazonaws.com`;
  if (attribute === 'CanonicalHostedZoneID') return `Z${'X'.repeat(13)}`;
  throw new Error(`no longest value for ${logicalId}.${attribute} (${type})`);
}

/** `value` of a template, its references given their longest values. */
export function longestValue(value: unknown, resources: Resources, at: Place): string | string[] {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map((item) => longestString(item, resources, at));
  const [[fn, args]] = Object.entries(value as Record<string, unknown>) as [[string, unknown]];
  if (fn === 'Ref') return ref(args as string, resources, at);
  if (fn === 'Fn::GetAtt') {
    const [logicalId, attribute] = args as [string, string];
    return getAtt(logicalId, attribute, resources, at);
  }
  if (fn === 'Fn::Join') {
    const [separator, items] = args as [string, unknown];
    return longestList(items, resources, at).join(separator);
  }
  if (fn === 'Fn::Split') {
    const [separator, source] = args as [string, unknown];
    return longestString(source, resources, at).split(separator);
  }
  if (fn === 'Fn::Select') {
    const [index, items] = args as [string | number, unknown];
    const selected = longestList(items, resources, at)[Number(index)];
    if (selected === undefined) throw new Error(`Fn::Select ${index} of fewer items`);
    return selected;
  }
  throw new Error(`no longest value for ${fn}`);
}

const longestString = (value: unknown, resources: Resources, at: Place): string => {
  const resolved = longestValue(value, resources, at);
  if (typeof resolved !== 'string') throw new Error('a list where a string was expected');
  return resolved;
};

const longestList = (value: unknown, resources: Resources, at: Place): string[] => {
  const resolved = longestValue(value, resources, at);
  return typeof resolved === 'string' ? [resolved] : resolved;
};
