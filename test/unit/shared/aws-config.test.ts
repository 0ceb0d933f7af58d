import { describe, expect, it } from 'vitest';
import {
  listenerArns,
  readAwsRuntimeConfig,
  readAwsTableConfig,
} from '../../../functions/shared/aws-config.ts';
import { LAMBDA_ENV } from '../../support/lambda-fixtures.ts';

const EKS = {
  BERTH_RUNTIMES: 'fargate,eks',
  BERTH_EKS_CLUSTER: 'berth-apps',
  BERTH_EKS_LOAD_BALANCER_CIDRS: '10.64.0.0/22,10.64.4.0/22',
  BERTH_HOSTED_ZONE_ID: 'Z0123456789ABCDEFGHIJ',
};

describe('the Lambda configuration', () => {
  it('offers Fargate alone by default, with no EKS cluster', () => {
    const config = readAwsRuntimeConfig(LAMBDA_ENV);
    expect(config.BERTH_RUNTIMES).toEqual(['fargate']);
    expect(config.BERTH_EKS_CLUSTER).toBeUndefined();
  });

  it('reads the admin keys’ hashes: one, or two during a rotation, and no more', () => {
    const [a, b, c] = ['a', 'b', 'c'].map((digit) => digit.repeat(64));
    expect(readAwsRuntimeConfig(LAMBDA_ENV).BERTH_ADMIN_KEY_HASH).toEqual([a]);
    expect(
      readAwsRuntimeConfig({ ...LAMBDA_ENV, BERTH_ADMIN_KEY_HASH: `${b},${a}` }).BERTH_ADMIN_KEY_HASH,
    ).toEqual([b, a]);
    expect(() => readAwsRuntimeConfig({ ...LAMBDA_ENV, BERTH_ADMIN_KEY_HASH: `${a},${b},${c}` })).toThrow(
      /BERTH_ADMIN_KEY_HASH/,
    );
    expect(() => readAwsRuntimeConfig({ ...LAMBDA_ENV, BERTH_ADMIN_KEY_HASH: 'bk_secret' })).toThrow(
      /BERTH_ADMIN_KEY_HASH\.0: must be the SHA-256 of the admin key/,
    );
  });

  it('reads the sizes the install offers, refusing a vCPU Fargate does not have', () => {
    expect(readAwsRuntimeConfig(LAMBDA_ENV).BERTH_SIZES).toBeUndefined();
    const sizes = { cpus: [0.25, 0.5, 1], maxMemoryMiB: 4096 };
    expect(readAwsRuntimeConfig({ ...LAMBDA_ENV, BERTH_SIZES: JSON.stringify(sizes) }).BERTH_SIZES).toEqual(
      sizes,
    );
    expect(() =>
      readAwsRuntimeConfig({ ...LAMBDA_ENV, BERTH_SIZES: JSON.stringify({ cpus: [3], maxMemoryMiB: 4096 }) }),
    ).toThrow(/BERTH_SIZES\.cpus\.0: must be one of the Fargate vCPUs/);
  });

  it('says a JSON variable that is not JSON is not, rather than what JSON it lacks', () => {
    expect(() => readAwsRuntimeConfig({ ...LAMBDA_ENV, BERTH_PRICE_TABLE: '{"vcpuSecond": ' })).toThrow(
      /BERTH_PRICE_TABLE: must be JSON/,
    );
  });

  it("reads all the install Lambda needs, and only that: the table's name, region and endpoint", () => {
    const env = { ...LAMBDA_ENV, AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000' };
    expect(readAwsTableConfig(env)).toEqual({
      AWS_REGION: LAMBDA_ENV.AWS_REGION,
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000',
      BERTH_TABLE_NAME: LAMBDA_ENV.BERTH_TABLE_NAME,
    });
    expect(() => readAwsTableConfig({ AWS_REGION: 'eu-west-1' })).toThrow(/BERTH_TABLE_NAME/);
  });

  it('reads the EKS runtime settings when the install offers eks', () => {
    const config = readAwsRuntimeConfig({ ...LAMBDA_ENV, ...EKS });
    // Unset, the EKS runtime takes the install's own (clusterScope); the CDK app always sets it.
    expect(config.BERTH_EKS_INGRESS_GROUP).toBeUndefined();
    expect(config).toMatchObject({
      BERTH_RUNTIMES: ['fargate', 'eks'],
      BERTH_EKS_CLUSTER: 'berth-apps',
      BERTH_APP_IDLE_TIMEOUT_SECONDS: 60,
      BERTH_EKS_LOAD_BALANCER_CIDRS: ['10.64.0.0/22', '10.64.4.0/22'],
      BERTH_EKS_FARGATE: 'true',
    });
    expect(
      readAwsRuntimeConfig({ ...LAMBDA_ENV, ...EKS, BERTH_APP_IDLE_TIMEOUT_SECONDS: '300' })
        .BERTH_APP_IDLE_TIMEOUT_SECONDS,
    ).toBe(300);
  });

  it('names what is inconsistent: eks offered without a cluster, a cluster without eks, bad CIDRs, no zone', () => {
    const { BERTH_EKS_CLUSTER: _, ...noCluster } = EKS;
    expect(() => readAwsRuntimeConfig({ ...LAMBDA_ENV, ...noCluster })).toThrow(
      /BERTH_EKS_CLUSTER: BERTH_EKS_CLUSTER is set exactly when BERTH_RUNTIMES offers eks/,
    );
    expect(() => readAwsRuntimeConfig({ ...LAMBDA_ENV, ...EKS, BERTH_RUNTIMES: 'fargate' })).toThrow(
      /BERTH_EKS_CLUSTER/,
    );
    expect(() =>
      readAwsRuntimeConfig({ ...LAMBDA_ENV, ...EKS, BERTH_EKS_LOAD_BALANCER_CIDRS: '10.64.0.0' }),
    ).toThrow(/BERTH_EKS_LOAD_BALANCER_CIDRS/);
    const { BERTH_HOSTED_ZONE_ID: __, ...noZone } = EKS;
    expect(() => readAwsRuntimeConfig({ ...LAMBDA_ENV, ...noZone })).toThrow(
      /BERTH_HOSTED_ZONE_ID: required with BERTH_EKS_CLUSTER/,
    );
    expect(() => readAwsRuntimeConfig({ ...LAMBDA_ENV, ...EKS, BERTH_RUNTIMES: 'fargate,k8s' })).toThrow(
      /BERTH_RUNTIMES/,
    );
  });

  it("puts the listeners' ARNs together from their ids, and takes a hosted zone once there are several", () => {
    const two = {
      ...LAMBDA_ENV,
      BERTH_LISTENERS:
        'Berth-Apps1/50dc6c495c0c9188/f2f7dc8efc522ab2,Berth-Apps2/7e1f2d3c4b5a6978/0a1b2c3d4e5f6a7b',
    };
    expect(() => readAwsRuntimeConfig(two)).toThrow(/BERTH_HOSTED_ZONE_ID: required with more than one/);
    expect(listenerArns(readAwsRuntimeConfig({ ...two, BERTH_HOSTED_ZONE_ID: 'ZAPPS' }))).toEqual([
      'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/Berth-Apps1/50dc6c495c0c9188/f2f7dc8efc522ab2',
      'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/Berth-Apps2/7e1f2d3c4b5a6978/0a1b2c3d4e5f6a7b',
    ]);
    // A whole ARN is not a listener's id.
    expect(() =>
      readAwsRuntimeConfig({
        ...LAMBDA_ENV,
        BERTH_LISTENERS: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/x/y/z',
      }),
    ).toThrow(/BERTH_LISTENERS/);
  });
});
