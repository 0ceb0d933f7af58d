import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { OPENAPI_PATH } from '../../functions/http/write-openapi.ts';

interface Response {
  description: string;
  headers?: Record<string, object>;
  content?: Record<string, { schema?: object }>;
}
interface Document {
  paths: Record<string, Record<string, { responses: Record<string, Response> }>>;
  components: { schemas: Record<string, object>; headers: Record<string, { required?: boolean }> };
}

/**
 * The published contract made strict: an object the document lists properties of has no others, so a field an
 * answer carries that `openapi.json` does not name is a failure, as one it lacks is.
 */
function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed);
  if (schema === null || typeof schema !== 'object') return schema;
  const copy = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, closed(v)]));
  if ('properties' in copy && !('additionalProperties' in copy)) copy.additionalProperties = false;
  return copy;
}

const doc = JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')) as Document;
const ajv = new Ajv2020({ strict: true, allErrors: true });
// ajv-formats is CommonJS: under NodeNext its default import is the module, whose `default` is the plugin.
addFormats.default(ajv);
ajv.addVocabulary(['example']);
/** The document's `#/components/schemas/<name>` references, as references into the `berth` schema's `$defs`. */
const rebased = (schema: unknown) =>
  JSON.parse(JSON.stringify(closed(schema)).replaceAll('"#/components/schemas/', '"berth#/$defs/'));
ajv.addSchema({ $id: 'berth', $defs: rebased(doc.components.schemas) });

const routes = Object.entries(doc.paths).map(([template, operations]) => ({
  template,
  pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
  operations,
}));

/** What the document promises of an answer to `method path` with `status`; undefined for an undocumented route. */
function promised(
  method: string,
  path: string,
  status: number,
): { what: string; response?: Response } | undefined {
  const route = routes.find((r) => r.pattern.test(path));
  const operation = route?.operations[method.toLowerCase()];
  if (!route || !operation) return undefined;
  return {
    what: `${method} ${route.template} ${status}`,
    response: operation.responses[String(status)] ?? operation.responses.default,
  };
}

const validators = new Map<object, ReturnType<typeof ajv.compile>>();
function validatorOf(schema: object) {
  let validate = validators.get(schema);
  if (!validate) {
    validate = ajv.compile(rebased(schema));
    validators.set(schema, validate);
  }
  return validate;
}

const PROBLEM = { $ref: '#/components/schemas/Problem' };
/**
 * The headers of Berth's own the document describes (components.headers) where an answer carries them; Request-Id,
 * on every answer, it names in its description.
 */
const DESCRIBED_HEADERS = Object.keys(doc.components.headers).map((name) => name.toLowerCase());
/** Those of them an answer that documents them always carries (ETag, Location), where others are now and then. */
const REQUIRED_HEADERS = Object.entries(doc.components.headers)
  .filter(([, header]) => header.required)
  .map(([name]) => name.toLowerCase());
/** What serves the document, which is not in it. */
const THE_DOCUMENT = new Set(['/openapi.json', '/docs']);

/**
 * Where an API answer breaks the published contract (`schemas/openapi.json`): a status its route does not document,
 * a header of Berth's it does not, or lacks, a content type it does not, a JSON body its schema refuses (fields it
 * does not name included), or a body where it promises none. A path or method the API has no route for must answer a
 * problem (404 or 405). Empty when it keeps it.
 */
export function contractBreaches(
  request: { method: string; path: string },
  answer: { status: number; contentType: string | null; text: string; headers?: Headers },
): string[] {
  const path = request.path.split('?')[0] ?? '';
  if (THE_DOCUMENT.has(path)) return [];
  const found = promised(request.method, path, answer.status);
  const type = answer.contentType?.split(';')[0]?.trim() ?? '';
  const what = found?.what ?? `${request.method} ${path} (no such route) ${answer.status}`;
  const content: Record<string, { schema?: object }> | undefined = found
    ? found.response?.content
    : { 'application/problem+json': { schema: PROBLEM } };
  if (found && !found.response) return [`${what}: the status is not documented`];
  const documented = Object.keys(found?.response?.headers ?? {}).map((name) => name.toLowerCase());
  const undocumented = DESCRIBED_HEADERS.filter(
    (name) => answer.headers?.has(name) && !documented.includes(name),
  );
  if (undocumented.length) return undocumented.map((name) => `${what}: header ${name} is not documented`);
  const missing = documented.filter((name) => REQUIRED_HEADERS.includes(name) && !answer.headers?.has(name));
  if (missing.length) return missing.map((name) => `${what}: header ${name} is missing`);
  if (!found && answer.status !== 404 && answer.status !== 405)
    return [`${what}: a route that is not documented`];
  if (!content) return answer.text === '' ? [] : [`${what}: a body where none is documented`];
  const media = content[type];
  if (!media)
    return [`${what}: content type "${type}" where the document has ${Object.keys(content).join(', ')}`];
  if (!type.endsWith('json') || !media.schema) return [];
  const validate = validatorOf(media.schema);
  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch {
    return [`${what}: a body that is not JSON: ${answer.text.slice(0, 200)}`];
  }
  if (validate(body)) return [];
  return (validate.errors ?? []).map(
    (e) =>
      `${what}: ${e.instancePath || '(body)'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`,
  );
}

/** Whether the document's schema `component` (`#/components/schemas/<component>`) accepts `value`, as a client reads it. */
export function documentAccepts(component: string, value: unknown): boolean {
  return validatorOf({ $ref: `#/components/schemas/${component}` })(value) === true;
}
