import { ECRClient } from '@aws-sdk/client-ecr';
import { STSClient } from '@aws-sdk/client-sts';
import { sdkClientConfig } from '../adapters/aws/client-config.ts';
import { ecrHost } from '../adapters/ecr/ecr-names.ts';
import { EcrRegistry } from '../adapters/ecr/ecr-registry.ts';
import type { Store } from '../core/ports.ts';
import type { AwsRuntimeConfig } from './aws-config.ts';

/** The image registry of AWS mode: ECR, with tenants' logins through the push role and repositories recorded in `store`. */
export function ecrRegistry(config: AwsRuntimeConfig, store: Store): EcrRegistry {
  return new EcrRegistry({
    ecr: new ECRClient(sdkClientConfig()),
    installation: config.BERTH_INSTALLATION,
    sts: new STSClient(sdkClientConfig()),
    host: ecrHost(config.BERTH_ACCOUNT_ID, config.AWS_REGION),
    region: config.AWS_REGION,
    account: config.BERTH_ACCOUNT_ID,
    pushRoleArn: config.BERTH_REGISTRY_PUSH_ROLE_ARN,
    records: store,
  });
}
