/* What one tenant may hold beyond its plan's limits, the same for every plan. */

/** API keys: enough to rotate and to give each of its systems its own. */
export const MAX_KEYS_PER_TENANT = 20;

/**
 * Repositories: enough for any tenant's apps, few enough that no tenant can spend the registry's own limit for
 * everyone (ECR: repositories per account and region).
 */
export const MAX_REPOSITORIES_PER_TENANT = 100;
