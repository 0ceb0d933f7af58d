/**
 * The installation an AWS install is unless its configuration names another (`name`, lowercased): what its names in
 * the account's shared spaces (ECR repositories, target groups, metrics) are scoped by.
 */
export const DEFAULT_INSTALLATION = 'berth';
