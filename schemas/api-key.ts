import * as z from 'zod';
import { displayName, pageOf, Timestamp } from './common.ts';
import { Tenant } from './tenant.ts';

export const Role = z.enum(['admin', 'tenant']);
export type Role = z.infer<typeof Role>;

/** What a key is for, as its maker names it. */
const KeyName = displayName(100, 'CI deploys');

const keyNameOrNull = z
  .string()
  .nullable()
  .describe('What the key is for, as it was named at creation; null if not.');

/** An API key as listed: never its secret. */
export const ApiKey = z
  .object({
    id: z.string(),
    name: keyNameOrNull,
    role: Role,
    prefix: z.string().describe('The first characters of the key, to recognise it.'),
    createdAt: Timestamp,
    lastUsedAt: Timestamp.nullable(),
  })
  .meta({ id: 'ApiKey' });
export type ApiKey = z.infer<typeof ApiKey>;

export const ApiKeyPage = pageOf(ApiKey, 'ApiKeyPage');

/** A key at creation, the only time its secret is shown. */
export const ApiKeyCreated = z
  .object({ id: z.string(), name: keyNameOrNull, key: z.string().meta({ example: 'bk_…' }), role: Role })
  .meta({ id: 'ApiKeyCreated' });
export type ApiKeyCreated = z.infer<typeof ApiKeyCreated>;

/** A key's id, as it names the key in paths. */
export const KeyId = z
  .string()
  .regex(/^key_[a-z0-9]{1,40}$/, 'must be a key id such as "key_0mx3ds1ia988037653aebf939"')
  .describe("The key's id (as listed), not its secret.");

export const ApiKeyCreate = z
  .strictObject({
    role: z.literal('tenant').optional().describe('Only `tenant`: the key acts for this tenant alone.'),
    name: KeyName.optional().describe(
      `What the key is for (\`CI deploys\`, \`laptop\`), listed with it so you know which to revoke. ${KeyName.description}`,
    ),
  })
  .meta({ id: 'ApiKeyCreate' });

export const TenantCreated = z
  .object({ tenant: Tenant, apiKey: ApiKeyCreated })
  .meta({ id: 'TenantCreated' });
export type TenantCreated = z.infer<typeof TenantCreated>;
