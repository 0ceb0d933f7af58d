import * as z from 'zod';
import { DnsLabel, Timestamp } from './common.ts';

export const RepositoryCreate = z
  .strictObject({
    name: DnsLabel.describe("The repository's name, a DNS label; `docker push` goes to the answer's `uri`."),
  })
  .meta({ id: 'RepositoryCreate' });

export const Repository = z
  .object({ name: DnsLabel, uri: z.string().describe('Where `docker push` goes.'), createdAt: Timestamp })
  .meta({ id: 'Repository' });
export type Repository = z.infer<typeof Repository>;

export const Image = z
  .object({
    digest: z.string(),
    tags: z.array(z.string()),
    pushedAt: Timestamp,
    size: z.number().int().describe('Bytes of config and layers.'),
  })
  .meta({ id: 'Image' });
export type Image = z.infer<typeof Image>;

export const RegistryLogin = z
  .object({
    registry: z.string(),
    username: z.string(),
    password: z.string(),
    expiresAt: Timestamp,
  })
  .meta({ id: 'RegistryLogin', description: 'Short-lived credentials for `docker login <registry>`.' });
export type RegistryLogin = z.infer<typeof RegistryLogin>;
