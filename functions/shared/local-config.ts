import { resolve } from 'node:path';
import * as z from 'zod';
import { PriceTable } from '../../schemas/billing.ts';
import { OfferedSizes } from '../../schemas/fargate-sizes.ts';
import { ADMIN_KEY_FORM } from '../core/api-keys.ts';
import {
  configError,
  IdleTimeoutSecondsVar,
  JsonText,
  parseConfig,
  RateLimitVars,
} from './config-parsing.ts';
import { FETCH_BAD_PORTS } from './fetch-bad-ports.ts';

/** A port one of the platform's servers listens on: the platform's own fetches, and browsers, must reach it. */
const Port = z.coerce
  .number()
  .int()
  .min(1)
  .max(65535)
  .refine((port) => !FETCH_BAD_PORTS.has(port), {
    message:
      'is one of the ports fetch and browsers refuse to connect to (the Fetch standard\'s "bad ports", such as 6000, 6665–6669 and 10080): choose another',
  });

/** Local mode's environment (DESIGN.md "Local configuration"), validated once at start. */
export const LocalConfig = z
  .object({
    BERTH_PORT: Port.default(8080),
    BERTH_INGRESS_PORT: Port.default(8000),
    BERTH_REGISTRY_PORT: Port.default(5000),
    BERTH_DATA_DIR: z.string().min(1).default('.berth'),
    BERTH_ADMIN_KEY: z
      .string()
      .regex(ADMIN_KEY_FORM.pattern, `must look like ${ADMIN_KEY_FORM.words}`)
      .optional(),
    BERTH_TICK_MS: z.coerce.number().int().min(100).max(3_600_000).default(5000),
    BERTH_DYNAMODB_ENDPOINT: z
      .url({
        protocol: /^https?$/,
        error: 'must be an http:// or https:// URL, such as http://127.0.0.1:8000',
      })
      .optional(),
    BERTH_TABLE_NAME: z
      .string()
      .regex(
        /^[a-zA-Z0-9_.-]{3,255}$/,
        'must be a DynamoDB table name: 3 to 255 letters, digits, "_", "." or "-"',
      )
      .default('berth'),
    BERTH_DEPLOYMENT_DEADLINE_SECONDS: z.coerce.number().int().min(5).max(86_400).default(600),
    BERTH_STOP_GRACE_SECONDS: z.coerce.number().int().min(0).max(300).default(10),
    BERTH_PRICE_TABLE: JsonText.pipe(PriceTable).optional(),
    BERTH_SIZES: JsonText.pipe(OfferedSizes).optional(),
    ...RateLimitVars,
    BERTH_APP_IDLE_TIMEOUT_SECONDS: IdleTimeoutSecondsVar,
  })
  .superRefine((config, ctx) => {
    // Each server listens on its own port: two settings of one would fail the start as whichever listened second found
    // it taken, told to change its own setting though the other is as likely the one to change.
    const ports = ['BERTH_PORT', 'BERTH_INGRESS_PORT', 'BERTH_REGISTRY_PORT'] as const;
    for (const [i, name] of ports.entries()) {
      const same = ports.slice(0, i).find((other) => config[other] === config[name]);
      if (same)
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `is ${config[name]}, as ${same} is: the API, the ingress and the registry each need a port of their own`,
        });
    }
  });
export type LocalConfig = z.infer<typeof LocalConfig> & { dataDir: string };

/**
 * The BERTH_ variables in `env` that local mode has no setting of, a misspelt one say (`BERTH_TICK_SECONDS`), which
 * would otherwise leave its default in force without a word.
 */
export const unknownSettings = (env: NodeJS.ProcessEnv): string[] =>
  Object.keys(env)
    .filter((name) => name.startsWith('BERTH_') && !Object.hasOwn(LocalConfig.shape, name))
    .sort();

/**
 * Reads local configuration, naming every variable that is wrong. A setting given empty (`BERTH_PORT=`, a template's
 * blank) is named as empty, rather than read as 0 (`must be at least 1`) or told a pattern it missed.
 */
export function readLocalConfig(env: NodeJS.ProcessEnv = process.env): LocalConfig {
  const empty = Object.keys(LocalConfig.shape).filter((name) => env[name]?.trim() === '');
  if (empty.length > 0) {
    const message = 'is empty; give it a value, or unset it for its default';
    throw configError(
      'configuration',
      empty.map((field) => ({ field, message })),
    );
  }
  const config = parseConfig(LocalConfig, env, 'configuration');
  return { ...config, dataDir: resolve(config.BERTH_DATA_DIR) };
}
