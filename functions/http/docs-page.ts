import { createHash } from 'node:crypto';

/** The page's CSS. */
const STYLE = `
  body { font: 15px/1.5 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f7f8fa; }
  header { background: #12324f; color: #fff; padding: 1rem 2rem; }
  main { max-width: 980px; margin: 0 auto; padding: 1rem 2rem 4rem; }
  h2 { margin-top: 2rem; border-bottom: 1px solid #d5d9e0; }
  details { background: #fff; border: 1px solid #d5d9e0; border-radius: 6px; margin: .5rem 0; }
  summary { cursor: pointer; padding: .5rem .75rem; font-family: ui-monospace, monospace; }
  .m { display: inline-block; width: 4.5rem; font-weight: 700; }
  .s { margin-left: 1rem; font-family: system-ui, sans-serif; color: #4a5568; }
  .get { color: #1f6f43; } .post { color: #1d4f91; } .patch { color: #8a5a00; } .delete { color: #a11d2a; }
  .body { padding: 0 1rem 1rem; }
  table { border-collapse: collapse; width: 100%; font-size: 14px; }
  td { border-top: 1px solid #e2e6ec; padding: .3rem .5rem; vertical-align: top; }
  .f { font-family: ui-monospace, monospace; white-space: nowrap; }
`;

/** The page's script: it renders /openapi.json with textContent only, never as HTML. */
const SCRIPT = `
(async () => {
  const root = document.getElementById('root');
  const el = (tag, props = {}, ...children) => {
    const node = Object.assign(document.createElement(tag), props);
    node.append(...children);
    return node;
  };
  const doc = await (await fetch('openapi.json')).json();
  document.getElementById('about').textContent = doc.info.description + ' Version ' + doc.info.version + '.';
  const schemas = doc.components?.schemas ?? {};
  const refName = (s) => s.$ref.split('/').pop();
  const resolved = (s) => (s?.$ref ? schemas[refName(s)] : s);
  // A type in a few words; a named schema goes by its name, which the Schemas section below lists.
  const typeOf = (s) => {
    if (!s) return 'any';
    if (s.$ref) return refName(s);
    const options = s.anyOf ?? s.oneOf;
    if (options) return options.map(typeOf).join(' | ');
    if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
    if (s.const !== undefined) return JSON.stringify(s.const);
    if (typeof s.additionalProperties === 'object') return 'map of ' + typeOf(s.additionalProperties);
    return [].concat(s.type ?? 'object').map((t) => (t === 'array' ? typeOf(s.items) + '[]' : t)).join(' | ');
  };
  // A field or parameter as a row: its name (with ? when optional), its type, what it means.
  const row = (name, optional, type, about) => el('tr', {},
    el('td', { className: 'f', textContent: name + (optional ? '?' : '') }),
    el('td', { className: 'f', textContent: type }),
    el('td', { textContent: about ?? '' }));
  // An object's fields, a row each.
  const fields = (schema) => {
    const s = resolved(schema);
    if (!s?.properties) return el('p', { textContent: typeOf(schema) });
    const required = new Set(s.required ?? []);
    return el('table', {}, ...Object.entries(s.properties).map(([name, field]) =>
      row(name, !required.has(name), typeOf(field), field.description ?? resolved(field)?.description)));
  };
  const byTag = new Map();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const tag = (op.tags || ['Other'])[0];
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push({ path, method, op });
    }
  }
  const tagAbout = new Map((doc.tags ?? []).map((t) => [t.name, t.description]));
  root.replaceChildren();
  for (const [tag, ops] of byTag) {
    root.append(el('h2', { textContent: tag }));
    if (tagAbout.get(tag)) root.append(el('p', { textContent: tagAbout.get(tag) }));
    for (const { path, method, op } of ops) {
      const body = el('div', { className: 'body' });
      if (op.description) body.append(el('p', { textContent: op.description }));
      const req = op.requestBody?.content?.['application/json']?.schema;
      if (req) body.append(el('h4', { textContent: 'Request body: ' + typeOf(req) }), fields(req));
      if (op.parameters?.length) {
        body.append(el('h4', { textContent: 'Parameters' }), el('table', {}, ...op.parameters.map((p) =>
          row(p.name, !p.required, p.in + ', ' + typeOf(p.schema), p.description))));
      }
      body.append(el('h4', { textContent: 'Responses' }));
      for (const [status, res] of Object.entries(op.responses)) {
        const schema = res.content && Object.values(res.content)[0]?.schema;
        const answered = schema && !String(status).match(/^[45]/);
        body.append(el('p', { textContent: status + ' ' + res.description + (answered ? ' (' + typeOf(schema) + ')' : '') }));
        if (answered && !schema.$ref && schema.properties) body.append(fields(schema));
      }
      root.append(el('details', {}, el('summary', {},
        el('span', { className: 'm ' + method, textContent: method.toUpperCase() }), path,
        el('span', { className: 's', textContent: op.summary ?? '' })), body));
    }
  }
  root.append(el('h2', { textContent: 'Schemas' }));
  for (const [name, schema] of Object.entries(schemas)) {
    root.append(el('h3', { textContent: name }));
    if (schema.description) root.append(el('p', { textContent: schema.description }));
    root.append(fields(schema));
  }
})().catch((err) => { document.getElementById('root').textContent = 'Could not load /openapi.json: ' + err; });
`;

/**
 * The API reference at GET /docs: one self-contained page (inline CSS and script, no CDN) that renders
 * /openapi.json, so it works offline and inside a closed network.
 */
export const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Berth API reference</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>Berth API reference</h1><p id="about"></p></header>
<main id="root"><p>Loading /openapi.json…</p></main>
<script>${SCRIPT}</script>
</body>
</html>
`;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/**
 * The page's Content-Security-Policy: its own script and style (by their hashes) and nothing else run or load, and
 * it reaches only its own origin, for /openapi.json.
 */
export const DOCS_PAGE_POLICY = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
