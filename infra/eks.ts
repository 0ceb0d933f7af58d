import { KubectlV34Layer } from '@aws-cdk/lambda-layer-kubectl-v34';
import { KubectlV35Layer } from '@aws-cdk/lambda-layer-kubectl-v35';
import { KubectlV36Layer } from '@aws-cdk/lambda-layer-kubectl-v36';
import { Stack } from 'aws-cdk-lib';
import { type IVpc, SubnetType } from 'aws-cdk-lib/aws-ec2';
import {
  Addon,
  AlbControllerVersion,
  CfnAccessEntry,
  Cluster,
  ClusterLoggingTypes,
  EndpointAccess,
  FargateCluster,
  type ICluster,
  KubectlProvider,
  KubernetesManifest,
  KubernetesVersion,
} from 'aws-cdk-lib/aws-eks-v2';
import { AccountPrincipal, type IRole, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { Construct } from 'constructs';
import {
  type ClusterScope,
  clusterScope,
  tenantNamespaces,
} from '../functions/adapters/eks/cluster-scope.ts';
import { EKS_ACCESS_LOGS_PREFIX } from '../functions/adapters/eks/manifests.ts';
import { controlPlaneRbac } from '../functions/adapters/eks/rbac.ts';
import type { InstallConfig } from './config.ts';

export interface EksProps {
  eks: NonNullable<InstallConfig['eks']>;
  vpc: IVpc;
  /** The install's name, lowercased (installationOf): what it owns in the cluster is named for it (clusterScope). */
  installation: string;
  /** The apps' load balancers' idle timeout (InstallConfig's appIdleTimeoutSeconds). */
  appIdleTimeoutSeconds: number;
  /** The bucket the Fargate apps' load balancers write access logs to; the EKS apps' one writes there too. */
  accessLogs: IBucket;
}

/**
 * Each Kubernetes version a cluster of the install may run, with the kubectl layer that manages it at deploy time:
 * kubectl works with its own minor version and the one either side, so v1.34's serves 1.33 too.
 */
const VERSIONS = {
  '1.33': { version: KubernetesVersion.V1_33, kubectl: KubectlV34Layer },
  '1.34': { version: KubernetesVersion.V1_34, kubectl: KubectlV34Layer },
  '1.35': { version: KubernetesVersion.V1_35, kubectl: KubectlV35Layer },
  '1.36': { version: KubernetesVersion.V1_36, kubectl: KubectlV36Layer },
} as const;

/** EKS's own policy for the edit role; scoped to tenants' namespaces below. */
const EDIT_POLICY = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy';

/**
 * Where apps with `runtime: "eks"` run: a cluster the install creates (EKS on Fargate for tenants' namespaces, the
 * AWS Load Balancer Controller, metrics-server, every control-plane log) or an existing one by name. Either way
 * the control plane's Lambdas get access entries (authentication mode API) with AmazonEKSEditPolicy scoped to the
 * install's tenant namespaces (`berth-*` for the default install, `berth-<installation>--*` for another) plus a small
 * ClusterRole held to them by an admission policy (controlPlaneRbac), never cluster admin. Two installs may share an
 * existing cluster: each has its own namespaces, group and RBAC (ClusterScope).
 */
export class EksRuntimeCluster extends Construct {
  readonly clusterName: string;
  /** What every Lambda is told (BERTH_EKS_*): the dispatcher too needs to know EKS apps are reconciled per tenant. */
  readonly environment: Record<string, string>;
  private readonly cluster: ICluster;
  private readonly clusterArn: string;
  private readonly scope: ClusterScope;
  private granted = 0;

  constructor(scope: Construct, id: string, props: EksProps) {
    super(scope, id);
    const { eks, vpc } = props;
    this.scope = clusterScope(props.installation);
    const { version, kubectl } = VERSIONS[eks.kubernetesVersion];
    const kubectlLayer = new kubectl(this, 'KubectlLayer');
    const existing = eks.existingCluster;
    if (existing) {
      // Applies the RBAC and admission policy below at deploy time; the only principal with more than Berth's
      // scoped access.
      const kubectlRole = new Role(this, 'KubectlRole', {
        assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
        description: "Applies Berth's ClusterRole to the existing cluster during deployments",
      });
      const kubectlProvider = new KubectlProvider(this, 'Kubectl', {
        cluster: Cluster.fromClusterAttributes(this, 'Target', { clusterName: existing.name }),
        kubectlLayer,
        role: kubectlRole,
      });
      this.cluster = Cluster.fromClusterAttributes(this, 'Cluster', {
        clusterName: existing.name,
        kubectlProvider,
      });
      const admin = new CfnAccessEntry(this, 'KubectlAccess', {
        clusterName: existing.name,
        principalArn: kubectlRole.roleArn,
        type: 'STANDARD',
        accessPolicies: [
          {
            policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy',
            accessScope: { type: 'cluster' },
          },
        ],
      });
      this.applyRbac().node.addDependency(admin);
    } else {
      const cluster = new FargateCluster(this, 'Cluster', {
        version,
        vpc,
        vpcSubnets: [{ subnetType: SubnetType.PRIVATE_WITH_EGRESS }],
        // The control plane's Lambdas run outside the VPC: they reach the API server at its public endpoint.
        endpointAccess: EndpointAccess.PUBLIC_AND_PRIVATE,
        clusterLogging: Object.values(ClusterLoggingTypes),
        kubectlProviderOptions: { kubectlLayer },
        albController: { version: AlbControllerVersion.V2_17_1 },
      });
      // Tenants' namespaces run on Fargate too, in the apps subnets.
      cluster.addFargateProfile('Tenants', { selectors: [{ namespace: tenantNamespaces(this.scope) }] });
      new Addon(this, 'MetricsServer', { cluster, addonName: 'metrics-server' });
      this.cluster = cluster;
      this.applyRbac();
    }
    this.clusterName = this.cluster.clusterName;
    const stack = Stack.of(this);
    this.clusterArn = stack.formatArn({
      service: 'eks',
      resource: 'cluster',
      resourceName: this.clusterName,
    });
    allowLoadBalancerLogs(props.accessLogs, EKS_ACCESS_LOGS_PREFIX);
    const loadBalancerCidrs =
      existing?.loadBalancerCidrs ?? vpc.publicSubnets.map((subnet) => subnet.ipv4CidrBlock);
    this.environment = {
      BERTH_EKS_CLUSTER: this.clusterName,
      BERTH_EKS_INGRESS_GROUP: eks.ingressGroup ?? this.scope.ingressGroup,
      BERTH_APP_IDLE_TIMEOUT_SECONDS: String(props.appIdleTimeoutSeconds),
      BERTH_EKS_ACCESS_LOGS_BUCKET: props.accessLogs.bucketName,
      BERTH_EKS_LOAD_BALANCER_CIDRS: loadBalancerCidrs.join(','),
      BERTH_EKS_FARGATE: String(existing?.fargate ?? true),
    };
  }

  /**
   * Lets a control-plane Lambda reach the cluster (through its public endpoint, authenticated by IAM):
   * DescribeCluster and an access entry (its role in the install's group, AmazonEKSEditPolicy on its tenant
   * namespaces only).
   */
  grantAccess(fn: LambdaFunction) {
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['eks:DescribeCluster'], resources: [this.clusterArn] }),
    );
    const role = fn.role as IRole;
    new CfnAccessEntry(this, `Access${++this.granted}`, {
      clusterName: this.clusterName,
      principalArn: role.roleArn,
      type: 'STANDARD',
      kubernetesGroups: [this.scope.group],
      accessPolicies: [
        {
          policyArn: EDIT_POLICY,
          accessScope: { type: 'namespace', namespaces: [tenantNamespaces(this.scope)] },
        },
      ],
    });
  }

  private applyRbac() {
    return new KubernetesManifest(this, 'ControlPlaneRbac', {
      cluster: this.cluster,
      manifest: controlPlaneRbac(this.scope),
    });
  }
}

/**
 * Lets a load balancer the controller makes write its access logs under `prefix` in `bucket`, as CDK's logAccessLogs
 * lets one of its own: Elastic Load Balancing's account in the region, or its log delivery service in a region opened
 * since August 2022, which has none.
 */
export function allowLoadBalancerLogs(bucket: IBucket, prefix: string) {
  const { region, account } = Stack.of(bucket);
  const elb = RegionInfo.get(region).elbv2Account;
  bucket.addToResourcePolicy(
    new PolicyStatement({
      actions: ['s3:PutObject'],
      principals: [
        elb
          ? new AccountPrincipal(elb)
          : new ServicePrincipal('logdelivery.elasticloadbalancing.amazonaws.com'),
      ],
      resources: [bucket.arnForObjects(`${prefix}/AWSLogs/${account}/*`)],
    }),
  );
}
