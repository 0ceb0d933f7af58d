/** An install's CDK context, as an operator would write it in cdk.json (no account: synthesis stays offline). */
export const INSTALL_CONTEXT = {
  name: 'Berth',
  region: 'eu-west-1',
  domain: 'apps.example.com',
  certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555',
  adminKeyHash: 'a'.repeat(64),
  availabilityZones: ['eu-west-1a', 'eu-west-1b'],
};

/** Where that install keeps its tenants' repositories, as its templates name them: `berth/` in its account's ECR. */
export const INSTALL_REPOSITORIES_ARN = {
  'Fn::Join': ['', ['arn:aws:ecr:eu-west-1:', { Ref: 'AWS::AccountId' }, ':repository/berth/*']],
};

/** The same install offering EKS (which needs a zone for its apps' names); `eks: {…}` configures it. */
export const EKS_INSTALL_CONTEXT = {
  ...INSTALL_CONTEXT,
  runtimes: ['fargate', 'eks'],
  hostedZone: { id: 'Z0123456789ABC', name: 'example.com' },
};

/** The environment the CDK app gives the Lambdas, with plausible values for one install. */
export const LAMBDA_ENV = {
  AWS_REGION: 'eu-west-1',
  BERTH_ACCOUNT_ID: '123456789012',
  BERTH_INSTALLATION: 'berth',
  BERTH_TABLE_NAME: 'Berth-state',
  BERTH_APP_DOMAIN: 'apps.example.com',
  BERTH_ADMIN_KEY_HASH: 'a'.repeat(64),
  BERTH_REGISTRY_PUSH_ROLE_ARN: 'arn:aws:iam::123456789012:role/push',
  BERTH_RECONCILE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/reconcile',
  BERTH_REPORT_BUCKET: 'berth-reports-123456789012-eu-west-1',
  BERTH_CLUSTER: 'berth',
  BERTH_VPC_ID: 'vpc-1',
  BERTH_APP_SUBNETS: 'subnet-a,subnet-b',
  BERTH_APP_SECURITY_GROUPS: 'sg-apps',
  BERTH_TASK_EXECUTION_ROLE_ARN: 'arn:aws:iam::123456789012:role/exec',
  BERTH_TASK_ROLE_ARN: 'arn:aws:iam::123456789012:role/task',
  BERTH_APP_LOG_GROUP: '/berth/apps',
  BERTH_LISTENERS: 'x/y/z',
};

/** The same install offering EKS on the cluster `corp-apps`, an operator's own. */
export const EKS_LAMBDA_ENV = {
  ...LAMBDA_ENV,
  BERTH_RUNTIMES: 'fargate,eks',
  BERTH_EKS_CLUSTER: 'corp-apps',
  BERTH_EKS_LOAD_BALANCER_CIDRS: '10.64.0.0/22',
  BERTH_HOSTED_ZONE_ID: 'Z0123456789ABCDEFGHIJ',
};

/** An API Gateway HTTP API (payload 2.0) event, as the API Lambda receives it. */
export function httpApiEvent(method: string, path: string, headers: Record<string, string> = {}) {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { host: 'api.example.com', ...headers },
    requestContext: {
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.1', userAgent: 'test' },
      requestId: 'r1',
      routeKey: '$default',
      stage: '$default',
      timeEpoch: Date.now(),
    },
    isBase64Encoded: false,
  };
}

/** The Lambda context fields the handlers read. */
export const LAMBDA_CONTEXT = {
  functionName: 'api',
  awsRequestId: 'r1',
  getRemainingTimeInMillis: () => 1000,
};
