import type { AwsCredentials } from '../adapters/aws/credentials.ts';

/** The function role's credentials, which Lambda puts in the environment of every function. */
function environmentCredentials(): AwsCredentials {
  const {
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: secretAccessKey,
    AWS_SESSION_TOKEN: sessionToken,
  } = process.env;
  if (!accessKeyId || !secretAccessKey) {
    throw new Error('no AWS credentials in the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)');
  }
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

/**
 * The SDK's default credential provider as the Lambda bundles have it (infra/handler-bundling.ts puts it in place
 * of @aws-sdk/credential-provider-node), and the table's: Lambda gives each function its role's credentials in the
 * environment, so the default chain's other sources — profiles, SSO, web identity, containers, sign-in — and the
 * STS, SSO and sign-in clients they carry have no place in a bundle.
 */
export const defaultProvider = () => async () => environmentCredentials();
