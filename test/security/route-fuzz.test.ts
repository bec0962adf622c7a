/**
 * Every HTTP route of the gateway, walked from its own `/openapi.json` (the app built over the
 * fake upstreams the gateway tests use, with real authentication), fuzzed with malformed input:
 * wrong types, huge strings, NUL bytes, invalid JSON, wrong content types, traversal payloads
 * in path parameters, unicode, negative and huge numbers, arrays for objects, extra fields. At
 * most 40 inputs per route, chosen with a fixed seed, so every run sends the same requests.
 * Each answer must be a 4xx with a JSON error message: never a 5xx, never a stack trace or a
 * path of the server's files. Without a key, every `/v1` route must answer 401 before looking
 * at the input.
 */
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import { createFakeUpstreams, depsOf } from '../../services/gateway/test/fakes/index.js';
import { bearer, TEST_ADMIN_KEY } from '../../services/gateway/test/auth.js';
import { seedAndDescribe, type ExampleRequest, type OperationExamples } from '../../services/gateway/test/openapi-examples.js';
import { operationsOf, type OpenApiDocument } from '../../services/gateway/test/openapi-walk.js';
import { serve, type ServedApp } from '../../services/gateway/test/serve.js';
import { CaseTable } from './case-table.js';

const MAX_INPUTS_PER_ROUTE = 40;
const SEED = 0x5eed;
const REPO_ROOT = path.resolve(__dirname, '../..');
const table = new CaseTable('gateway routes fuzzed with malformed input');

let app: ServedApp;
let document: OpenApiDocument;
let examples: Record<string, OperationExamples>;

/** A fuzzed request: what it tries, and what is sent. */
interface FuzzInput {
  label: string;
  params?: Record<string, string>;
  query?: string;
  /** Raw body text, sent as is. */
  body?: string;
  contentType?: string;
}

/** A small deterministic PRNG (mulberry32), so the chosen inputs are the same every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HUGE = 'x'.repeat(200_000);
const PATH_PAYLOADS = [
  '../../etc/passwd',
  '..%2f..%2fetc%2fpasswd',
  '....//....//etc/passwd',
  '..\\..\\windows\\win.ini',
  '%00',
  'a\u0000b',
  '\u202e\u0000\ufeff',
  'é🙂漢字\u0301',
  'x'.repeat(4_000),
  '-1',
  '99999999999999999999999999',
  '1e309',
  '[]',
  '{}',
  '%',
  '..',
  '.',
  ' ',
  "' OR 1=1 --",
  '<script>alert(1)</script>',
  '${jndi:ldap://x}',
];
/** A query parameter as the document describes it. */
interface ParameterSchema {
  type?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  pattern?: string;
}

/**
 * Query values this parameter's schema refuses: for numbers, text, fractions, out of range and
 * beyond double precision; for text, NUL and control characters, values outside an enum or a
 * pattern, and longer than allowed. Values a parameter would accept are not fuzz.
 */
function queryValuesFor(schema: ParameterSchema): string[] {
  if (schema.type === 'integer' || schema.type === 'number') {
    return ['abc', '1.5', '-99999999999', '1e309', '-1e309', '', 'NaN', String((schema.minimum ?? 0) - 1), ...(schema.maximum !== undefined ? [String(schema.maximum + 1)] : [])].filter(
      (v) => schema.type === 'integer' || v !== '1.5',
    );
  }
  if (schema.type === 'boolean') return ['maybe', '2', ''];
  const values = ['abc\u0000', '\u0000', '\u0007\u001b[2J\u0000'];
  if (schema.enum !== undefined) values.push('not-one-of-them', '');
  if (schema.pattern !== undefined) values.push(...['-bad', 'a b', '../x', 'é🙂'].filter((v) => !new RegExp(schema.pattern!, 'u').test(v)));
  if (schema.maxLength !== undefined) values.push('x'.repeat(schema.maxLength + 1));
  return values;
}
/** Replacement values for a body field: wrong types, oversized, NUL. */
const FIELD_VALUES: unknown[] = [5, -1, 1e308, true, null, [], [1, 2], {}, { nested: { deeper: [] } }, HUGE, 'nul\u0000byte'];

/** Every candidate input of one operation (before the seeded cut to MAX_INPUTS_PER_ROUTE). */
function candidates(key: string, op: OpenApiDocument['paths'][string][string], example: ExampleRequest | undefined): FuzzInput[] {
  const out: FuzzInput[] = [];
  const pathParams = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
  const queryParams = (op.parameters ?? []).filter((p) => p.in === 'query') as Array<{ name: string; schema?: ParameterSchema }>;
  const validParams = example?.params ?? {};
  const validBody = example?.body;
  const jsonBody = validBody === undefined ? undefined : JSON.stringify(validBody);
  const base = (): FuzzInput => ({ label: '', params: { ...validParams }, ...(jsonBody !== undefined ? { body: jsonBody, contentType: 'application/json' } : {}) });

  for (const payload of PATH_PAYLOADS) {
    for (const name of pathParams) out.push({ ...base(), label: `path ${name}=${JSON.stringify(payload.slice(0, 24))}`, params: { ...validParams, [name]: payload } });
  }
  for (const { name, schema } of queryParams) {
    for (const value of queryValuesFor(schema ?? {})) {
      out.push({ ...base(), label: `query ${name}=${JSON.stringify(value.slice(0, 16))}`, query: `${encodeURIComponent(name)}=${encodeURIComponent(value)}` });
    }
  }
  if (op.requestBody !== undefined) {
    out.push({ ...base(), label: 'invalid JSON', body: '{"goal": ', contentType: 'application/json' });
    out.push({ ...base(), label: 'empty JSON body', body: '', contentType: 'application/json' });
    out.push({ ...base(), label: 'text/plain body', body: 'fix it', contentType: 'text/plain' });
    out.push({ ...base(), label: 'form body', body: 'a=1&b=2', contentType: 'application/x-www-form-urlencoded' });
    // Not `null`: fastify reads it as "no body", which routes whose fields are all optional accept.
    for (const literal of ['[]', '"text"', '5', 'true', '-1e309']) out.push({ ...base(), label: `body ${literal}`, body: literal, contentType: 'application/json' });
    out.push({ ...base(), label: 'deeply nested arrays', body: `${'['.repeat(20_000)}${']'.repeat(20_000)}`, contentType: 'application/json' });
    out.push({ ...base(), label: 'huge body', body: JSON.stringify({ ...(validBody as object), filler: 'y'.repeat(2 * 1024 * 1024) }), contentType: 'application/json' });
    if (validBody !== null && typeof validBody === 'object' && !Array.isArray(validBody) && fieldsAreDeclared(op)) {
      out.push({ ...base(), label: 'a number beyond double precision', body: `{${JSON.stringify(Object.keys(validBody)[0] ?? 'x')}: 1e309}`, contentType: 'application/json' });
      out.push({ ...base(), label: 'extra field', body: JSON.stringify({ ...validBody, extraField: 1 }), contentType: 'application/json' });
      out.push({ ...base(), label: '__proto__ field', body: `{"__proto__": {"admin": true}, ${JSON.stringify(validBody).slice(1)}`, contentType: 'application/json' });
      for (const field of Object.keys(validBody)) {
        const current = (validBody as Record<string, unknown>)[field];
        for (const value of FIELD_VALUES) {
          // Same type as the valid value and within reason would be valid input, not fuzz.
          if (typeof value === typeof current && value !== HUGE && !(typeof value === 'string' && value.includes('\u0000')) && !Array.isArray(value) && value !== null) continue;
          if (Array.isArray(current) && Array.isArray(value)) continue;
          if (current !== null && typeof current === 'object' && !Array.isArray(current) && value !== null && typeof value === 'object' && !Array.isArray(value)) continue;
          out.push({ ...base(), label: `body ${field}=${JSON.stringify(value)?.slice(0, 20)}`, body: JSON.stringify({ ...validBody, [field]: value }), contentType: 'application/json' });
        }
      }
    }
  }
  return key.includes(' /v1/') ? out : [];
}

/**
 * True when the body's schema declares its fields. A free-form document (a workflow
 * definition, `additionalProperties: true` without properties) is validated by the service
 * that owns it, so only its shape (JSON, content type, size) is fuzzed here.
 */
function fieldsAreDeclared(op: OpenApiDocument['paths'][string][string]): boolean {
  const body = op.requestBody as { content?: Record<string, { schema?: { properties?: object } }> } | undefined;
  return body?.content?.['application/json']?.schema?.properties !== undefined;
}

/** The operation's documented valid request (its example), or a bare one: every route gets at least this request. */
function validInput(example: ExampleRequest | undefined): FuzzInput {
  const body = example?.body;
  return { label: 'the valid request', params: { ...(example?.params ?? {}) }, ...(body !== undefined ? { body: JSON.stringify(body), contentType: 'application/json' } : {}) };
}

/** At most MAX_INPUTS_PER_ROUTE, a seeded sample that keeps the order of the list. */
function choose(inputs: FuzzInput[], random: () => number): FuzzInput[] {
  if (inputs.length <= MAX_INPUTS_PER_ROUTE) return inputs;
  const picked = new Set<number>();
  while (picked.size < MAX_INPUTS_PER_ROUTE) picked.add(Math.floor(random() * inputs.length));
  return [...picked].sort((a, b) => a - b).map((i) => inputs[i]!);
}

/**
 * Sends one input over plain node:http, which sends the path exactly as built (fetch would
 * resolve `..` and `%2e%2e` segments itself, so the gateway would never see them), and reads
 * the answer (an event stream only up to its headers).
 */
function send(method: string, routePath: string, input: FuzzInput, key: string | undefined): Promise<{ status: number; type: string; text: string }> {
  const url = new URL(app.url);
  const filled = routePath.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(input.params?.[name] ?? 'x'));
  const body = input.body !== undefined && method !== 'GET' && method !== 'DELETE' ? Buffer.from(input.body) : undefined;
  const headers: Record<string, string | number> = { ...(key ? bearer(key) : {}) };
  if (input.contentType !== undefined && body !== undefined) headers['content-type'] = input.contentType;
  if (body !== undefined) headers['content-length'] = body.length;
  return new Promise((resolve) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path: `${filled}${input.query ? `?${input.query}` : ''}`, headers }, (res) => {
      const type = (res.headers['content-type'] ?? '').split(';')[0]!.trim();
      if (type === 'text/event-stream') {
        res.destroy();
        resolve({ status: res.statusCode ?? 0, type, text: '' });
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err) => resolve({ status: 0, type: '', text: `response failed: ${err.message}` }));
    });
    req.on('error', (err) => resolve({ status: 0, type: '', text: `request failed: ${err.message}` }));
    req.end(body);
  });
}

/** Why an answer is not an acceptable refusal, or undefined when it is. */
function problemWith(answer: { status: number; type: string; text: string }, expectedStatus?: number): string | undefined {
  if (expectedStatus !== undefined ? answer.status !== expectedStatus : answer.status < 400 || answer.status > 499) return `status ${answer.status}`;
  if (answer.type !== 'application/json') return `content type ${answer.type || '(none)'}`;
  let body: { error?: { message?: unknown } };
  try {
    body = JSON.parse(answer.text) as typeof body;
  } catch {
    return 'body is not JSON';
  }
  if (typeof body.error?.message !== 'string' || body.error.message === '') return 'no error message';
  if (/\n\s+at /.test(answer.text) || /\\n\s+at /.test(answer.text)) return 'stack trace in the body';
  if (answer.text.includes(REPO_ROOT) || answer.text.includes('node_modules') || answer.text.includes('file://')) return 'a server path in the body';
  return undefined;
}

beforeAll(async () => {
  const fakes = createFakeUpstreams();
  examples = await seedAndDescribe(fakes);
  app = await serve(depsOf(fakes));
  document = (await (await fetch(`${app.url}/openapi.json`)).json()) as OpenApiDocument;
});

afterAll(async () => {
  await app?.close();
  table.print();
});

jest.setTimeout(300_000);

it('answers malformed input on every route with a 4xx JSON error, never a 5xx or a stack trace', async () => {
  const random = prng(SEED);
  const operations = operationsOf(document);
  expect(operations.length).toBeGreaterThanOrEqual(28);
  for (const { key, method, path: routePath, op } of operations) {
    const inputs = choose(candidates(key, op, examples[key]?.valid), random);
    if (inputs.length === 0) continue;
    const bad: string[] = [];
    const statuses = new Map<number, number>();
    for (const input of inputs) {
      const answer = await send(method, routePath, input, TEST_ADMIN_KEY);
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      const problem = problemWith(answer);
      if (problem !== undefined) bad.push(`${input.label}: ${problem}${answer.status >= 500 || answer.status < 400 ? ` ${answer.text.slice(0, 80)}` : ''}`);
    }
    if (process.env['FUZZ_DEBUG'] && bad.length > 0) process.stdout.write(`${key}\n  ${bad.join('\n  ')}\n`);
    table.record({
      case: `${key} (${inputs.length} inputs, admin key)`,
      expected: '4xx JSON error each',
      got: `${[...statuses].map(([s, n]) => `${s}×${n}`).join(' ')}${bad.length > 0 ? `; ${bad.length} bad: ${bad.slice(0, 2).join('; ')}` : ''}`,
      pass: bad.length === 0,
    });
  }
  expect(table.failures()).toEqual([]);
});

it('answers every /v1 route without a key, or with a malformed one, with 401 before reading the input', async () => {
  const before = new Set(table.cases);
  const random = prng(SEED + 1);
  const credentials: Array<{ label: string; key: string | undefined }> = [
    { label: 'no key', key: undefined },
    { label: 'malformed key', key: 'mk_\u00e9\u00e9' },
    { label: 'unknown key', key: `mk_unknownkey000_${'A'.repeat(43)}` },
    { label: 'forged JWT', key: 'eyJhbGciOiJub25lIn0.eyJzY29wZSI6Im1hZXN0cm86YWRtaW4ifQ.' },
  ];
  for (const { key, method, path: routePath, op } of operationsOf(document).filter((o) => o.path.startsWith('/v1/'))) {
    // The valid request first, so a route with nothing to fuzz (no parameters, no body) is still asked.
    const inputs = [validInput(examples[key]?.valid), ...choose(candidates(key, op, examples[key]?.valid), random).slice(0, 3)];
    const bad: string[] = [];
    for (const credential of credentials) {
      for (const input of inputs) {
        // A header value outside Latin-1 cannot be sent; the malformed key goes percent-encoded instead.
        const answer = await send(method, routePath, input, credential.key === undefined ? undefined : credential.key.replace(/[^\x20-\x7e]/g, (c) => encodeURIComponent(c)));
        const problem = problemWith(answer, 401);
        if (problem !== undefined) bad.push(`${credential.label}, ${input.label}: ${problem}`);
      }
    }
    table.record({
      case: `${key} (${inputs.length} inputs × ${credentials.length} credentials)`,
      expected: '401 JSON error each',
      got: bad.length === 0 ? `401×${inputs.length * credentials.length}` : `${bad.length} bad: ${bad.slice(0, 2).join('; ')}`,
      pass: bad.length === 0 && inputs.length > 0,
    });
  }
  expect(table.failures().filter((c) => !before.has(c))).toEqual([]);
});
