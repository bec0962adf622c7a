/**
 * Walking the gateway's OpenAPI document: its operations, sending an example request to one,
 * and checking that the answer is documented (status, content type, body against the schema).
 * Shared by the walk over the fakes (openapi.test.ts) and over the real upstreams
 * (openapi-real-upstreams.int.test.ts).
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { bearer, TEST_ADMIN_KEY } from './auth.js';
import type { ExampleRequest } from './openapi-examples.js';

interface MediaType {
  schema?: object;
}

/** One operation of the document, as far as the walk reads it. */
export interface Operation {
  tags?: string[];
  parameters?: Array<{ name: string; in: string }>;
  requestBody?: unknown;
  responses: Record<string, { content?: Record<string, MediaType> }>;
}

/** The document, as far as the walk reads it. */
export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
}

/** An answer as the walk sees it; event streams are read up to their headers. */
export interface WalkAnswer {
  status: number;
  type: string;
  body: unknown;
}

/** Every operation, keyed `METHOD /path/{param}` as the examples are. */
export function operationsOf(document: OpenApiDocument): Array<{ key: string; method: string; path: string; op: Operation }> {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, method: method.toUpperCase(), path, op })),
  );
}

/** The URL of `path` with the example's parameters and query filled in. */
export function urlOf(base: string, path: string, request: ExampleRequest): string {
  const filled = path.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(request.params?.[name] ?? ''));
  const query = new URLSearchParams(request.query ?? {}).toString();
  return `${base}${filled}${query ? `?${query}` : ''}`;
}

/**
 * Sends the request to the app at `base` with `key` (the test admin key by default); streams are
 * read up to their headers and then dropped.
 */
export async function sendExample(base: string, method: string, path: string, request: ExampleRequest, key: string = TEST_ADMIN_KEY): Promise<WalkAnswer> {
  const abort = new AbortController();
  const response = await fetch(urlOf(base, path, request), {
    method,
    signal: abort.signal,
    headers: { ...bearer(key), ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
  });
  const type = (response.headers.get('content-type') ?? '').split(';')[0]!;
  if (type === 'text/event-stream') {
    abort.abort();
    return { status: response.status, type, body: undefined };
  }
  const text = await response.text();
  return { status: response.status, type, body: type === 'application/json' ? JSON.parse(text) : text };
}

const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);

/** Throws, saying what is wrong, unless `answer`'s status, content type and body are documented for `op`. */
export function expectDocumented(op: Operation, answer: WalkAnswer, what: string): void {
  const documented = op.responses[String(answer.status)];
  if (!documented) throw new Error(`${what}: status ${answer.status} is not documented (${JSON.stringify(answer.body)})`);
  if (answer.status === 204) return;
  const media = documented.content?.[answer.type];
  if (!media) throw new Error(`${what}: content type ${answer.type} of ${answer.status} is not documented`);
  if (answer.type !== 'application/json') return;
  const validate = ajv.compile(media.schema ?? {});
  if (!validate(answer.body)) {
    throw new Error(`${what}: body does not match the documented schema: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(answer.body).slice(0, 2000)}`);
  }
}
