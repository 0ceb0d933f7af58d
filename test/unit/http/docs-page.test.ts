import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DOCS_PAGE } from '../../../functions/http/docs-page.ts';
import { OPENAPI_PATH } from '../../../functions/http/write-openapi.ts';

/** The little of the DOM the page's script uses: elements with properties and children. */
interface Element {
  tag: string;
  className?: string;
  textContent?: string;
  children: (Element | string)[];
  append(...children: (Element | string)[]): void;
  replaceChildren(...children: (Element | string)[]): void;
}

function createElement(tag: string): Element {
  const element: Element = {
    tag,
    children: [],
    append: (...children) => element.children.push(...children),
    replaceChildren: (...children) => {
      element.children = children;
    },
  };
  return element;
}

const textOf = (node: Element | string): string =>
  typeof node === 'string' ? node : (node.textContent ?? node.children.map(textOf).join(''));

const allOf = (node: Element, tag: string): Element[] =>
  node.children.flatMap((child) =>
    typeof child === 'string' ? [] : [...(child.tag === tag ? [child] : []), ...allOf(child, tag)],
  );

/** Runs the page's own script against `doc` and returns what it rendered into `#root`. */
async function render(doc: unknown): Promise<Element> {
  const script = DOCS_PAGE.match(/<script>([\s\S]*)<\/script>/)?.[1] ?? '';
  const nodes = new Map([
    ['root', createElement('main')],
    ['about', createElement('p')],
  ]);
  const document = { getElementById: (id: string) => nodes.get(id), createElement };
  const fetch = async (url: string) => ({ json: async () => (url === 'openapi.json' ? doc : undefined) });
  await new Function('document', 'fetch', `return ${script.trim()}`)(document, fetch);
  return nodes.get('root') as Element;
}

describe('the docs page', () => {
  it("lists every operation with its method, path and summary, and each parameter's description", async () => {
    const doc = JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')) as {
      paths: Record<string, Record<string, { summary: string }>>;
    };
    const root = await render(doc);
    const lines = allOf(root, 'summary').map(textOf);
    const expected = Object.entries(doc.paths).flatMap(([path, operations]) =>
      Object.entries(operations).map(([method, op]) => `${method.toUpperCase()}${path}${op.summary}`),
    );
    expect(lines).toEqual(expect.arrayContaining(expected));
    expect(lines).toHaveLength(expected.length);
    expect(lines).toContain("GET/v1/apps/{app}/logsRead or follow an app's logs");
  });

  it('says what each operation does, and what each group of them is for', async () => {
    const doc = JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')) as {
      tags: { name: string; description: string }[];
      paths: Record<string, Record<string, { description: string }>>;
    };
    const root = await render(doc);
    const paragraphsOf = (node: Element) =>
      node.children.filter((c): c is Element => typeof c !== 'string' && c.tag === 'p').map(textOf);
    const bodies = allOf(root, 'details').map((d) => allOf(d, 'div')[0] as Element);
    const described = bodies.map((body) => paragraphsOf(body)[0]);
    const expected = Object.values(doc.paths).flatMap((operations) =>
      Object.values(operations).map((op) => op.description),
    );
    expect(described.toSorted()).toEqual(expected.toSorted());
    expect(described).toContainEqual(expect.stringMatching(/^Revision 1 and its deployment/));
    const sections = root.children.filter((c): c is Element => typeof c !== 'string');
    const underHeadings = sections.flatMap((c, i) =>
      c.tag === 'h2' && sections[i + 1]?.tag === 'p' ? [textOf(sections[i + 1] as Element)] : [],
    );
    expect(underHeadings).toEqual(doc.tags.map((tag) => tag.description));
  });

  it("tables each request body's, parameter's and schema's fields: name (? when optional), type, description", async () => {
    const root = await render(JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')));
    const operation = (line: string) =>
      allOf(root, 'details').find((d) =>
        textOf(allOf(d, 'summary')[0] as Element).startsWith(line),
      ) as Element;
    const rowsOf = (node: Element) => allOf(node, 'tr').map((row) => row.children.map(textOf));
    const create = operation('POST/v1/apps');
    expect(allOf(create, 'h4').map(textOf)).toContain('Request body: AppCreate');
    expect(rowsOf(create)).toEqual(
      expect.arrayContaining([
        ['name', 'string', "The app's name, unique within your tenant and part of its URL."],
        ['healthCheck?', 'HealthCheck', expect.any(String)],
      ]),
    );
    expect(rowsOf(operation('GET/v1/apps/{app}/logs'))).toEqual(
      expect.arrayContaining([
        ['app', 'path, string', "The app's name."],
        ['tail?', 'query, integer', 'Lines per instance from the end.'],
      ]),
    );
    const headings = root.children.filter((c): c is Element => typeof c !== 'string');
    const healthCheck = headings.findIndex((c) => c.tag === 'h3' && textOf(c) === 'HealthCheck');
    // The schema's description, then its fields.
    expect(textOf(headings[healthCheck + 1] as Element)).toMatch(/^How a replica is checked/);
    expect(rowsOf(headings[healthCheck + 2] as Element)).toContainEqual([
      'intervalSeconds?',
      'integer',
      'Seconds between checks.',
    ]);
  });

  it('writes each type in a few words, and each answer with its status, what it is and, for a success, its type', async () => {
    const json = (ref: string) => ({
      'application/json': { schema: { $ref: `#/components/schemas/${ref}` } },
    });
    const root = await render({
      info: { description: 'Things.', version: '1' },
      paths: {
        '/things': {
          post: {
            tags: ['Things'],
            summary: 'Make a thing',
            parameters: [{ name: 'q', in: 'query' }],
            requestBody: { content: json('Thing') },
            responses: {
              201: { description: 'Made.', content: json('Thing') },
              409: { description: 'Taken.', content: json('Problem') },
            },
          },
        },
        '/count': {
          get: {
            tags: ['Things'],
            responses: {
              200: {
                description: 'Counted.',
                content: {
                  'application/json': { schema: { type: 'object', properties: { n: { type: 'integer' } } } },
                },
              },
            },
          },
        },
      },
      components: {
        schemas: {
          Thing: {
            type: 'object',
            required: ['kind'],
            properties: {
              kind: { enum: ['a', 'b'] },
              version: { const: 1 },
              labels: { type: 'object', additionalProperties: { type: 'string' } },
              size: { anyOf: [{ type: 'integer' }, { type: 'null' }] },
              tags: { type: 'array', items: { $ref: '#/components/schemas/Tag' } },
            },
          },
          Tag: { type: 'string' },
          Problem: { type: 'object', properties: {} },
        },
      },
    });
    const [operation, count] = allOf(root, 'details') as [Element, Element];
    expect(allOf(operation, 'tr').map((row) => row.children.map(textOf))).toEqual([
      ['kind', '"a" | "b"', ''],
      ['version?', '1', ''],
      ['labels?', 'map of string', ''],
      ['size?', 'integer | null', ''],
      ['tags?', 'Tag[]', ''],
      ['q?', 'query, any', ''],
    ]);
    const answers = allOf(operation, 'p').map(textOf);
    expect(answers.slice(answers.indexOf('201 Made. (Thing)'))).toEqual(['201 Made. (Thing)', '409 Taken.']);
    expect(allOf(operation, 'h4').map(textOf)).toEqual(['Request body: Thing', 'Parameters', 'Responses']);
    // An answer's own fields, where its schema has no name of its own.
    expect(allOf(count, 'tr').map((row) => row.children.map(textOf))).toEqual([['n?', 'integer', '']]);
    // Then the schemas; one without fields is listed by its type.
    const listed = root.children.filter((c): c is Element => typeof c !== 'string');
    expect(listed.filter((c) => c.tag === 'h2').map(textOf)).toEqual(['Things', 'Schemas']);
    const tag = listed.findIndex((c) => c.tag === 'h3' && textOf(c) === 'Tag');
    expect(listed.slice(tag, tag + 2).map(textOf)).toEqual(['Tag', 'string']);
  });
});
