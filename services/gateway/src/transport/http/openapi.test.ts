/**
 * The OpenAPI document against the app it describes: it is valid OpenAPI 3.1 (checked by
 * @seriousme/openapi-schema-validator, run in a child Node process because it is ESM-only), and
 * for every operation a valid request gets a documented status whose body validates against the
 * documented schema, and a bad request gets a documented 400 naming the field.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { createFakeUpstreams, depsOf, type FakeUpstreams } from '../../../test/fakes/index.js';
import { seedAndDescribe, type ExampleRequest, type OperationExamples } from '../../../test/openapi-examples.js';
import { serve, type ServedApp } from '../../../test/serve.js';

interface MediaType {
  schema?: object;
}
interface Operation {
  tags?: string[];
  parameters?: Array<{ name: string; in: string }>;
  requestBody?: unknown;
  responses: Record<string, { content?: Record<string, MediaType> }>;
}
type Document = { openapi: string; paths: Record<string, Record<string, Operation>> };

const gatewayDir = join(__dirname, '../../..');
let fakes: FakeUpstreams;
let app: ServedApp;
let document: Document;
let examples: Record<string, OperationExamples>;

beforeAll(async () => {
  fakes = createFakeUpstreams();
  examples = await seedAndDescribe(fakes);
  app = await serve(depsOf(fakes));
  document = (await (await fetch(`${app.url}/openapi.json`)).json()) as Document;
});

afterAll(async () => {
  await app.close();
});

function operations(): Array<{ key: string; method: string; path: string; op: Operation }> {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, method: method.toUpperCase(), path, op })),
  );
}

function urlOf(path: string, request: ExampleRequest): string {
  const filled = path.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(request.params?.[name] ?? ''));
  const query = new URLSearchParams(request.query ?? {}).toString();
  return `${app.url}${filled}${query ? `?${query}` : ''}`;
}

/** Sends the request; streams are read up to their headers and then dropped. */
async function send(method: string, path: string, request: ExampleRequest): Promise<{ status: number; type: string; body: unknown }> {
  const abort = new AbortController();
  const response = await fetch(urlOf(path, request), {
    method,
    signal: abort.signal,
    ...(request.body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(request.body) } : {}),
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

function expectDocumented(op: Operation, answer: { status: number; type: string; body: unknown }, what: string): void {
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

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1', () => {
    expect(document.openapi).toBe('3.1.0');
    const file = join(mkdtempSync(join(tmpdir(), 'gateway-openapi-')), 'openapi.json');
    writeFileSync(file, JSON.stringify(document));
    const script = `import { Validator } from '@seriousme/openapi-schema-validator';
const result = await new Validator().validate(process.argv[1]);
process.stdout.write(JSON.stringify(result));`;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script, file], { cwd: gatewayDir, encoding: 'utf8' });
    expect(JSON.parse(output)).toEqual({ valid: true });
  });

  it('documents every operation with a tag, and documents 400 wherever there is input', () => {
    const all = operations();
    expect(all.length).toBeGreaterThanOrEqual(28);
    for (const { key, op } of all) {
      expect({ key, tags: op.tags?.length ?? 0 }).toEqual({ key, tags: 1 });
      if ((op.parameters?.length ?? 0) > 0 || op.requestBody !== undefined) expect({ key, has400: '400' in op.responses }).toEqual({ key, has400: true });
    }
  });

  it('answers a valid request to every operation with a documented status and body', async () => {
    const missing = operations().filter(({ key }) => examples[key] === undefined).map(({ key }) => key);
    expect(missing).toEqual([]);
    for (const { key, method, path, op } of operations()) {
      const answer = await send(method, path, examples[key]!.valid);
      expect({ key, status: answer.status }).toEqual({ key, status: expect.any(Number) });
      if (answer.status >= 400) throw new Error(`${key}: valid request answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      expectDocumented(op, answer, key);
    }
  });

  it('answers a bad request to every operation that takes input with a documented 400 naming the field', async () => {
    for (const { key, method, path, op } of operations()) {
      const bad = examples[key]?.bad;
      const takesInput = (op.parameters?.length ?? 0) > 0 || op.requestBody !== undefined;
      expect({ key, hasBadExample: bad !== undefined }).toEqual({ key, hasBadExample: takesInput });
      if (!bad) continue;
      const answer = await send(method, path, bad);
      expect({ key, status: answer.status }).toEqual({ key, status: 400 });
      expectDocumented(op, answer, `${key} (bad)`);
      expect({ key, field: (answer.body as { error: { field?: string } }).error.field }).toEqual({ key, field: bad.field });
    }
  });
});
