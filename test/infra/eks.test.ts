import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { berthApp } from '../../infra/berth-app.ts';
import { allowLoadBalancerLogs } from '../../infra/eks.ts';
import { deletedNoLaterThan, keptOnDeletion } from '../support/deleted-first.ts';
import { lambdaBundles, lambdaName } from '../support/lambda-bundles.ts';
import { EKS_INSTALL_CONTEXT, INSTALL_CONTEXT } from '../support/lambda-fixtures.ts';
import { actionsAllowedTo } from '../support/sdk-actions.ts';

/** Synthesizes an install offering EKS; synthesis itself fails on any unacknowledged cdk-nag finding. */
function synthWithEks(eks: Record<string, unknown>, install: Record<string, unknown> = {}) {
  const built = berthApp({ context: { berth: { ...EKS_INSTALL_CONTEXT, ...install, eks } } });
  const assembly = built.app.synth();
  const { platform } = built;
  const roleOf = (fn: { role?: unknown }) =>
    platform.getLogicalId((fn.role as { node: { defaultChild: CfnElement } }).node.defaultChild);
  const { functions } = platform.jobs;
  return {
    assembly,
    template: Template.fromStack(platform),
    /** The logical ids of the roles of the Lambdas that reach the cluster. */
    clusterRoles: [platform.apiFunction, functions.reconcile, functions.scale, functions.meter].map(roleOf),
    otherRoles: [functions.dispatch, functions.report, functions.ecsEvents].map(roleOf),
  };
}

type AccessEntry = {
  Properties: {
    ClusterName: unknown;
    PrincipalArn: { 'Fn::GetAtt': [string, string] };
    KubernetesGroups?: string[];
    AccessPolicies: { PolicyArn: string; AccessScope: { Type: string; Namespaces?: string[] } }[];
  };
};

/** AmazonEKSEditPolicy on the namespaces `pattern` matches, and nowhere else. */
const editOn = (pattern: string) => [
  {
    PolicyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy',
    AccessScope: { Type: 'namespace', Namespaces: [pattern] },
  },
];

function accessEntries(template: Template) {
  return Object.values(template.findResources('AWS::EKS::AccessEntry')) as AccessEntry[];
}

/** The objects of the deploy-time manifest that holds the control plane's RBAC, named `rbacName`. */
function rbacObjects(template: Template, rbacName: string) {
  const [manifest] = Object.values(template.findResources('Custom::AWSCDK-EKS-KubernetesResource')).filter(
    (r) => JSON.stringify(r).includes(rbacName),
  ) as { Properties: { Manifest: unknown } }[];
  return JSON.parse(
    JSON.stringify(manifest?.Properties.Manifest).replace(/^"|"$/g, '').replace(/\\"/g, '"'),
  ) as { kind: string; metadata: { name: string }; [key: string]: unknown }[];
}

describe('the CDK app with EKS', () => {
  it('creates an EKS on Fargate cluster where the control plane has namespace-scoped access, not admin', () => {
    const { assembly, template, clusterRoles, otherRoles } = synthWithEks({});
    const [cluster] = Object.keys(template.findResources('AWS::EKS::Cluster'));
    template.hasResourceProperties('Custom::BerthInstall', { EksCluster: { Ref: cluster } });
    // The cluster, its nested stacks and manifests are deleted only after the install's resource, which refuses while
    // apps remain.
    const [install] = Object.keys(template.findResources('Custom::BerthInstall'));
    expect(deletedNoLaterThan(template, install as string)).toEqual([]);
    // Kept beside the apps' logs and the load balancers' access logs: the two log groups of the CDK's kubectl provider.
    expect(keptOnDeletion(template)).toEqual({
      EksClusterKubectlProviderHandlerLogGroup4E3D8320: 'AWS::Logs::LogGroup',
      EksClusterKubectlProviderframeworkonEventLogGroup018F2467: 'AWS::Logs::LogGroup',
      JobsAppLogsBF128EDC: 'AWS::Logs::LogGroup',
      LoadBalancerLogsC31A6119: 'AWS::S3::Bucket',
    });
    template.hasResourceProperties('AWS::EKS::Cluster', {
      // Within EKS's standard support until 27 March 2027 (1.34's ended on 2 December 2026).
      Version: '1.35',
      AccessConfig: Match.objectLike({ AuthenticationMode: 'API' }),
      // The Lambdas, outside the VPC, reach the API server at its public endpoint.
      ResourcesVpcConfig: Match.objectLike({ EndpointPublicAccess: true, EndpointPrivateAccess: true }),
      Logging: {
        ClusterLogging: {
          EnabledTypes: ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'].map((Type) => ({
            Type,
          })),
        },
      },
    });
    template.hasResourceProperties('AWS::EKS::FargateProfile', {
      Selectors: [{ Namespace: 'berth-*' }],
    });
    template.hasResourceProperties('AWS::EKS::Addon', { AddonName: 'metrics-server' });
    // The load balancer controller, for the apps' Ingresses.
    template.hasResourceProperties('Custom::AWSCDK-EKS-HelmChart', {
      Chart: 'aws-load-balancer-controller',
    });
    // Its service account's role trusts the cluster's OIDC issuer through a native provider, not the deprecated
    // custom resource (the feature flag in berth-app.ts).
    template.resourceCountIs('AWS::IAM::OIDCProvider', 1);
    template.resourceCountIs('Custom::AWSCDKOpenIdConnectProvider', 0);

    // Exactly the four Lambdas that reach the cluster have an access entry: Berth's group, edit on berth-* only.
    const entries = accessEntries(template).filter((e) => e.Properties.KubernetesGroups);
    expect(entries.map((e) => e.Properties.PrincipalArn['Fn::GetAtt'][0]).sort()).toEqual(
      [...clusterRoles].sort(),
    );
    for (const entry of entries) {
      expect(entry.Properties.KubernetesGroups).toEqual(['berth:control-plane']);
      expect(entry.Properties.AccessPolicies).toEqual(editOn('berth-*'));
    }
    const principals = JSON.stringify(accessEntries(template).map((e) => e.Properties.PrincipalArn));
    for (const role of otherRoles) expect(principals).not.toContain(role);

    // The ClusterRole bound to that group: namespaces, quotas and limits (writes held to berth-* by an admission
    // policy, applied first), and pod/metrics listing; nothing more.
    const objects = rbacObjects(template, 'berth-control-plane');
    const role = objects.find((o) => o.kind === 'ClusterRole');
    expect(role?.rules).toEqual([
      {
        apiGroups: [''],
        resources: ['namespaces', 'resourcequotas', 'limitranges'],
        verbs: ['get', 'create', 'patch'],
      },
      { apiGroups: [''], resources: ['namespaces'], verbs: ['list', 'delete'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
      { apiGroups: ['metrics.k8s.io'], resources: ['pods'], verbs: ['list'] },
    ]);
    expect(objects.map((o) => o.kind)).toEqual([
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding',
      'ClusterRole',
      'ClusterRoleBinding',
    ]);
    expect(objects.find((o) => o.kind === 'ClusterRoleBinding')?.subjects).toEqual([
      { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'berth:control-plane' },
    ]);

    const [logsBucket] = Object.keys(template.findResources('AWS::S3::Bucket')).filter((id) =>
      id.startsWith('LoadBalancerLogs'),
    );
    // Every Lambda is told the runtimes and the cluster; those that reach it may describe it.
    const berthFunctions = Object.values(
      template.findResources('AWS::Lambda::Function', { Properties: { Architectures: ['arm64'] } }),
    ) as { Properties: { Environment: { Variables: Record<string, unknown> } } }[];
    expect(berthFunctions).toHaveLength(8);
    for (const fn of berthFunctions) {
      expect(fn.Properties.Environment.Variables).toMatchObject({
        BERTH_RUNTIMES: 'fargate,eks',
        BERTH_EKS_CLUSTER: expect.anything(),
        BERTH_EKS_INGRESS_GROUP: 'berth-apps',
        BERTH_APP_IDLE_TIMEOUT_SECONDS: '60',
        BERTH_EKS_LOAD_BALANCER_CIDRS: '10.64.0.0/22,10.64.4.0/22',
        BERTH_EKS_FARGATE: 'true',
        BERTH_EKS_ACCESS_LOGS_BUCKET: { Ref: logsBucket },
      });
    }
    // The controller's load balancer may write its access logs beside the Fargate apps' ones: eu-west-1's ELB account.
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logsBucket },
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 's3:PutObject',
            Effect: 'Allow',
            Principal: { AWS: 'arn:aws:iam::156460612806:root' },
            Resource: {
              'Fn::Join': [
                '',
                [
                  { 'Fn::GetAtt': [logsBucket, 'Arn'] },
                  '/eks-apps/AWSLogs/',
                  { Ref: 'AWS::AccountId' },
                  '/*',
                ],
              ],
            },
          },
        ]),
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Action: 'eks:DescribeCluster' })]),
      },
    });
    // Only the reconcile worker points apps' names at the controller's load balancer: it alone reads its zone.
    const lambdaRoles = [...clusterRoles, ...otherRoles];
    expect(
      lambdaRoles.filter((r) =>
        actionsAllowedTo(template, r).includes('elasticloadbalancing:DescribeLoadBalancers'),
      ),
    ).toEqual([clusterRoles[1]]);
    // The EKS client (and the Kubernetes client with it) is bundled exactly where a Lambda reaches the cluster.
    const withEks = lambdaBundles(assembly, 'BerthPlatform')
      .filter((b) => b.clients.includes('EKS'))
      .map((b) => lambdaName(b.id));
    expect(withEks.sort()).toEqual(['Api', 'Meter', 'Reconcile', 'Scale']);
  });

  it('manages each cluster with a kubectl within a minor version of it, the one it creates or an existing one', () => {
    /** The platform stack of an install offering EKS, its Lambdas left unbundled: only its template is read. */
    const templateWith = (eks: Record<string, unknown>) =>
      Template.fromStack(
        berthApp({
          context: { berth: { ...EKS_INSTALL_CONTEXT, eks }, 'aws:cdk:bundling-stacks': [] },
        }).platform,
      );
    const kubectlOf = (template: Template) =>
      Object.values(template.findResources('AWS::Lambda::LayerVersion')).flatMap(
        (layer) =>
          /^\/opt\/kubectl\/kubectl (1\.\d+)\./.exec(String(layer.Properties.Description))?.[1] ?? [],
      );
    const existingCluster = { name: 'platform', loadBalancerCidrs: ['10.0.0.0/20'], fargate: false };
    const managed = ['1.33', '1.34', '1.35', '1.36'].map((kubernetesVersion) => {
      const created = templateWith({ kubernetesVersion });
      created.hasResourceProperties('AWS::EKS::Cluster', { Version: kubernetesVersion });
      const existing = templateWith({ kubernetesVersion, existingCluster });
      return [kubernetesVersion, kubectlOf(created), kubectlOf(existing)];
    });
    // 1.36 lets a cluster leave 1.35 before its standard support ends (27 March 2027).
    expect(managed).toEqual([
      ['1.33', ['1.34'], ['1.34']],
      ['1.34', ['1.34'], ['1.34']],
      ['1.35', ['1.35'], ['1.35']],
      ['1.36', ['1.36'], ['1.36']],
    ]);
  });

  it("lets the controller's load balancer log in a region opened since 2022 through ELB's log delivery service", () => {
    // Such a region has no Elastic Load Balancing account to name.
    const stack = new Stack(new App(), 'Logs', {
      env: { region: 'ap-southeast-4', account: '123456789012' },
    });
    const bucket = new Bucket(stack, 'Bucket');
    allowLoadBalancerLogs(bucket, 'eks-apps');
    Template.fromStack(stack).hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'logdelivery.elasticloadbalancing.amazonaws.com' },
            Resource: {
              'Fn::Join': ['', [Match.anyValue(), '/eks-apps/AWSLogs/123456789012/*']],
            },
          }),
        ],
      },
    });
  });

  it('points at an existing cluster by name: access entries there, and the ClusterRole applied at deploy time', () => {
    const { template, clusterRoles } = synthWithEks(
      {
        existingCluster: { name: 'platform', loadBalancerCidrs: ['10.0.0.0/20'], fargate: false },
        ingressGroup: 'tenant-apps',
      },
      { appIdleTimeoutSeconds: 300 },
    );
    expect(template.findResources('AWS::EKS::Cluster')).toEqual({});
    // Named to the install's custom resource, which refuses another cluster while apps run on this one.
    template.hasResourceProperties('Custom::BerthInstall', {
      Runtimes: ['fargate', 'eks'],
      EksCluster: 'platform',
    });
    const entries = accessEntries(template);
    for (const entry of entries) expect(entry.Properties.ClusterName).toBe('platform');
    const scoped = entries.filter((e) => e.Properties.KubernetesGroups);
    expect(scoped.map((e) => e.Properties.PrincipalArn['Fn::GetAtt'][0]).sort()).toEqual(
      [...clusterRoles].sort(),
    );
    for (const entry of scoped) expect(entry.Properties.AccessPolicies).toEqual(editOn('berth-*'));
    // The one admin entry is the deploy-time kubectl provider's, which applies the ClusterRole.
    const admins = entries.filter((e) =>
      e.Properties.AccessPolicies.some((p) => p.PolicyArn.endsWith('/AmazonEKSClusterAdminPolicy')),
    );
    expect(admins).toHaveLength(1);
    expect(clusterRoles).not.toContain(admins[0]?.Properties.PrincipalArn['Fn::GetAtt'][0]);
    template.resourceCountIs('Custom::AWSCDK-EKS-KubernetesResource', 1);
    // Created, never overwritten: a deploy fails on RBAC of the same name it did not make rather than take it over.
    for (const manifest of Object.values(template.findResources('Custom::AWSCDK-EKS-KubernetesResource'))) {
      expect(manifest.Properties.Overwrite).toBeUndefined();
    }
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          BERTH_EKS_CLUSTER: 'platform',
          BERTH_EKS_INGRESS_GROUP: 'tenant-apps',
          // The ingress group's load balancer closes idle connections as the Fargate apps' ones do.
          BERTH_APP_IDLE_TIMEOUT_SECONDS: '300',
          BERTH_EKS_LOAD_BALANCER_CIDRS: '10.0.0.0/20',
          BERTH_EKS_FARGATE: 'false',
        }),
      },
    });
  });

  it('gives another install on the same cluster its own namespaces, group, RBAC and ingress group', () => {
    const existingCluster = { name: 'platform', loadBalancerCidrs: ['10.0.0.0/20'], fargate: false };
    const { template, clusterRoles } = synthWithEks({ existingCluster }, { name: 'Staging' });
    const scoped = accessEntries(template).filter((e) => e.Properties.KubernetesGroups);
    expect(scoped).toHaveLength(clusterRoles.length);
    for (const entry of scoped) {
      expect(entry.Properties.KubernetesGroups).toEqual(['berth:staging:control-plane']);
      expect(entry.Properties.AccessPolicies).toEqual(editOn('berth-staging--*'));
    }
    const objects = rbacObjects(template, 'berth-staging-control-plane');
    expect(objects.map((o) => [o.kind, o.metadata.name])).toEqual([
      ['ValidatingAdmissionPolicy', 'berth-staging-control-plane'],
      ['ValidatingAdmissionPolicyBinding', 'berth-staging-control-plane'],
      ['ClusterRole', 'berth-staging-control-plane'],
      ['ClusterRoleBinding', 'berth-staging-control-plane'],
    ]);
    expect(JSON.stringify(objects)).not.toMatch(/"berth-control-plane"|"berth:control-plane"/);
    expect(objects[0]?.spec).toMatchObject({
      matchConditions: [{ expression: "'berth:staging:control-plane' in request.userInfo.groups" }],
      validations: [
        { expression: expect.stringContaining("matches('^berth-staging--[a-z0-9]+(-[a-z0-9]+)*$')") },
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ BERTH_EKS_INGRESS_GROUP: 'berth-staging-apps' }) },
    });
    // A cluster the install creates runs its tenants' namespaces on Fargate by the same prefix.
    const created = synthWithEks({}, { name: 'Staging' }).template;
    created.hasResourceProperties('AWS::EKS::FargateProfile', {
      Selectors: [{ Namespace: 'berth-staging--*' }],
    });
  });

  it('refuses eks offered without its configuration or a zone for its apps, and EKS configured without offering it', () => {
    expect(() => berthApp({ context: { berth: EKS_INSTALL_CONTEXT } })).toThrow(
      /berth\.eks: eks is configured exactly when runtimes offers eks/,
    );
    const { hostedZone: _, ...unzoned } = EKS_INSTALL_CONTEXT;
    expect(() => berthApp({ context: { berth: { ...unzoned, eks: {} } } })).toThrow(
      /berth\.hostedZone: offering eks needs hostedZone/,
    );
    expect(() => berthApp({ context: { berth: { ...INSTALL_CONTEXT, eks: {} } } })).toThrow(/berth\.eks/);
    expect(() =>
      berthApp({
        context: {
          berth: {
            ...INSTALL_CONTEXT,
            runtimes: ['eks'],
            eks: { existingCluster: { name: 'x', loadBalancerCidrs: ['not a cidr'], fargate: true } },
          },
        },
      }),
    ).toThrow(/berth\.eks\.existingCluster\.loadBalancerCidrs\.0/);
  });
});
