/**
 * The OpenAPI document against the app it describes: it is valid OpenAPI 3.1 (checked by
 * @seriousme/openapi-schema-validator), and
 * for every operation a valid request gets a documented status whose body validates against the
 * documented schema, and a bad request gets a documented 400 naming the field.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { createFakeUpstreams, depsOf, type FakeUpstreams } from '../../../test/fakes/index.js';
import { seedAndDescribe, type OperationExamples } from '../../../test/openapi-examples.js';
import { expectDocumented, operationsOf, sendExample, urlOf, type OpenApiDocument } from '../../../test/openapi-walk.js';
import { serve, type ServedApp } from '../../../test/serve.js';
import { authedFetch } from '../../../test/auth.js';

// Every request sends the test admin key (the app authenticates all but its public routes).
const fetch = authedFetch();

let fakes: FakeUpstreams;
let app: ServedApp;
let document: OpenApiDocument;
let examples: Record<string, OperationExamples>;

beforeAll(async () => {
  fakes = createFakeUpstreams();
  examples = await seedAndDescribe(fakes);
  app = await serve(depsOf(fakes));
  document = (await (await fetch(`${app.url}/openapi.json`)).json()) as OpenApiDocument;
});

afterAll(async () => {
  await app.close();
});

const operations = () => operationsOf(document);
const send = (method: string, path: string, request: Parameters<typeof sendExample>[3]) => sendExample(app.url, method, path, request);

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1', async () => {
    expect(document.openapi).toBe('3.1.0');
    // A copy: the validator may rewrite $refs in what it is given, and later tests read the document.
    expect(await new Validator().validate(structuredClone(document) as unknown as Parameters<Validator['validate']>[0])).toEqual({ valid: true });
  });

  it('documents every operation with a tag, and documents 400 wherever there is input', () => {
    const all = operations();
    expect(all.length).toBeGreaterThanOrEqual(28);
    for (const { key, op } of all) {
      expect({ key, tags: op.tags?.length ?? 0 }).toEqual({ key, tags: 1 });
      if ((op.parameters?.length ?? 0) > 0 || op.requestBody !== undefined) expect({ key, has400: '400' in op.responses }).toEqual({ key, has400: true });
    }
  });

  it('declares the bearer scheme on every operation but the public ones, and documents 401 and 403 there', () => {
    const document_ = document as unknown as { components: { securitySchemes: Record<string, unknown> } };
    expect(document_.components.securitySchemes).toEqual({ bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }) });
    const publicOps = ['GET /healthz', 'GET /openapi.json', 'GET /docs'];
    for (const { key, op } of operations()) {
      const { security } = op as { security?: unknown };
      if (publicOps.includes(key)) {
        expect({ key, security }).toEqual({ key, security: [] });
      } else {
        expect({ key, security, documents: ['401' in op.responses, '403' in op.responses] }).toEqual({ key, security: [{ bearer: [] }], documents: [true, true] });
      }
    }
  });

  it('answers every protected operation without a key with its documented 401', async () => {
    const publicOps = ['GET /healthz', 'GET /openapi.json', 'GET /docs'];
    for (const { key, method, path, op } of operations().filter(({ key: k }) => !publicOps.includes(k))) {
      const response = await globalThis.fetch(urlOf(app.url, path, examples[key]!.valid), { method });
      const answer = { status: response.status, type: (response.headers.get('content-type') ?? '').split(';')[0]!, body: await response.json() };
      expect({ key, status: answer.status }).toEqual({ key, status: 401 });
      expectDocumented(op, answer, `${key} (no key)`);
    }
  });

  it('answers a body that is not JSON with a documented 415 on every operation that takes a body', async () => {
    const withBody = operations().filter(({ op }) => op.requestBody !== undefined);
    expect(withBody.length).toBeGreaterThanOrEqual(6);
    for (const { key, method, path, op } of withBody) {
      expect({ key, documents: ['413' in op.responses, '415' in op.responses] }).toEqual({ key, documents: [true, true] });
      const response = await fetch(urlOf(app.url, path, examples[key]!.valid), { method, headers: { 'content-type': 'text/plain' }, body: 'fix it' });
      const answer = { status: response.status, type: (response.headers.get('content-type') ?? '').split(';')[0]!, body: await response.json() };
      expect({ key, status: answer.status }).toEqual({ key, status: 415 });
      expectDocumented(op, answer, `${key} (text/plain)`);
    }
  });

  it('answers a valid request to every operation with a documented status and body', async () => {
    const missing = operations().filter(({ key }) => examples[key] === undefined).map(({ key }) => key);
    expect(missing).toEqual([]);
    for (const { key, method, path, op } of operations()) {
      const answer = await send(method, path, examples[key]!.valid);
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
