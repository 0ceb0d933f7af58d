import { writeFileSync } from 'node:fs';
import { openApiDocument } from './api.ts';

/** Where the committed OpenAPI document lives; a test fails when it drifts from the routes. */
export const OPENAPI_PATH = new URL('../../schemas/openapi.json', import.meta.url);

export const renderOpenApi = () => `${JSON.stringify(openApiDocument(), null, 2)}\n`;

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(OPENAPI_PATH, renderOpenApi());
  console.log(`wrote ${OPENAPI_PATH.pathname}`);
}
