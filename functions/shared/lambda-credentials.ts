import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * The SDK's default credential provider as the Lambda bundles have it (infra/handler-bundling.ts puts it in place
 * of @aws-sdk/credential-provider-node): Lambda gives each function its role's credentials in the environment, so
 * the default chain's other sources — profiles, SSO, web identity, containers, sign-in — and the STS, SSO and
 * sign-in clients they carry have no place in a bundle.
 */
export const defaultProvider = fromEnv;
