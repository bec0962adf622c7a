/**
 * Renders an OpenAPI 3.1 document as one self-contained HTML page: operations grouped by tag,
 * each with its parameters, request body and responses (schemas shown as JSON). No script, no
 * external asset, so it works offline and behind any proxy.
 */

/** The parts of an OpenAPI document the page reads. */
export interface OpenApiDocument {
  info: { title: string; version: string; description?: string };
  tags?: Array<{ name: string; description?: string }>;
  paths: Record<string, Record<string, OpenApiOperation>>;
}

interface OpenApiOperation {
  tags?: string[];
  summary?: string;
  parameters?: Array<{ name: string; in: string; required?: boolean; schema?: unknown; description?: string }>;
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>;
}

const methods = ['get', 'put', 'post', 'patch', 'delete'];

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function schemaBlock(schema: unknown): string {
  return `<details><summary>schema</summary><pre>${escape(JSON.stringify(schema, null, 2))}</pre></details>`;
}

function renderOperation(method: string, path: string, op: OpenApiOperation): string {
  const params = (op.parameters ?? [])
    .map((p) => {
      const type = JSON.stringify((p.schema as { type?: unknown } | undefined)?.type ?? '');
      return `<tr><td><code>${escape(p.name)}</code></td><td>${escape(p.in)}</td><td>${p.required ? 'required' : ''}</td><td>${escape(type)}</td></tr>`;
    })
    .join('');
  const body = Object.entries(op.requestBody?.content ?? {})
    .map(([type, media]) => `<h4>body (${escape(type)})</h4>${schemaBlock(media.schema)}`)
    .join('');
  const responses = Object.entries(op.responses ?? {})
    .map(([status, response]) => {
      const media = Object.entries(response.content ?? {})
        .map(([type, m]) => `<div>${escape(type)} ${schemaBlock(m.schema)}</div>`)
        .join('');
      return `<li><strong>${escape(status)}</strong> ${escape(response.description ?? '')}${media}</li>`;
    })
    .join('');
  return `<section class="op"><h3><span class="m">${method.toUpperCase()}</span> <code>${escape(path)}</code></h3>
<p>${escape(op.summary ?? '')}</p>
${params ? `<table><tr><th>parameter</th><th>in</th><th></th><th>type</th></tr>${params}</table>` : ''}
${body}<h4>responses</h4><ul>${responses}</ul></section>`;
}

/** The reference page of `document`. */
export function renderReferencePage(document: OpenApiDocument): string {
  const operations: Array<{ tag: string; html: string }> = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of methods) {
      const op = item[method];
      if (op) operations.push({ tag: op.tags?.[0] ?? 'other', html: renderOperation(method, path, op) });
    }
  }
  const tags = [...(document.tags ?? [])];
  for (const { tag } of operations) if (!tags.some((t) => t.name === tag)) tags.push({ name: tag });
  const sections = tags
    .map((tag) => {
      const ops = operations.filter((o) => o.tag === tag.name);
      if (ops.length === 0) return '';
      return `<h2 id="${escape(tag.name)}">${escape(tag.name)}</h2><p>${escape(tag.description ?? '')}</p>${ops.map((o) => o.html).join('')}`;
    })
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(document.info.title)} API</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
.op{border-top:1px solid #ddd;padding:.5rem 0}.m{font-weight:bold;color:#06c}table{border-collapse:collapse}
td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left}pre{background:#f6f6f6;padding:.5rem;overflow:auto}</style></head>
<body><h1>${escape(document.info.title)} <small>${escape(document.info.version)}</small></h1>
<p>${escape(document.info.description ?? '')} The machine-readable document is <a href="/openapi.json">/openapi.json</a>.</p>
<nav>${tags.map((t) => `<a href="#${escape(t.name)}">${escape(t.name)}</a>`).join(' · ')}</nav>${sections}</body></html>`;
}
