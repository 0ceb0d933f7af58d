import { DynamoDbHttp } from '../adapters/dynamodb/dynamodb-http.ts';
import type { AwsConfig } from './aws-config.ts';
import { defaultProvider } from './lambda-credentials.ts';

/** The table's connection in a Lambda, with the function role's credentials. */
export const dynamodb = (config: Pick<AwsConfig, 'AWS_REGION' | 'AWS_ENDPOINT_URL_DYNAMODB'>) =>
  new DynamoDbHttp({
    region: config.AWS_REGION,
    endpoint: config.AWS_ENDPOINT_URL_DYNAMODB,
    credentials: defaultProvider(),
  });
