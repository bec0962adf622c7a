/**
 * OIDC bearer tokens at the gateway's edge, end to end: a local identity provider publishes an
 * RS256 key (JWKS over HTTP on 127.0.0.1), and a gateway configured with
 * `MAESTRO_GATEWAY_AUTH=api-keys,oidc` (read through its own config spec, wired like
 * `gateway.ts`: the real authentication hook, the real verifier fetching the real JWKS; the
 * upstreams are the gateway tests' fakes) answers over real HTTP. Through HTTP, server-sent
 * events and the built `maestro` CLI: no credentials, an expired token, one signed by a key the
 * provider never published, the wrong audience or issuer, `alg: none`, HS256 with the public key
 * as secret, a tampered payload, a token not yet valid, without `exp` or without a tenant are
 * refused with 401 saying why; a token without maestro scopes gets 403 on a submit; a valid
 * token of tenant acme reads acme's tasks and runs (200) while globex's read as unknown (404,
 * not 403), and a stream opened with a token ends when the token expires. No answer and no CLI
 * output ever carries the token. The gateway's clock is the fakes' ManualClock, so expiry is
 * exact and nothing waits on the wall clock.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createSilentLogger, loadConfig } from '@maestro/runtime';
import { prepareSampleRepo } from '@maestro/cli';
import { runToEnd, type RunResult } from '@maestro/testing';
import { acceptsCredential, checkGatewayConfig, gatewayConfigSpec, type GatewayConfig } from '../../services/gateway/src/config.js';
import { createAuthenticator } from '../../services/gateway/src/auth/authenticator.js';
import { createOidcVerifier } from '../../services/gateway/src/auth/oidc-verifier.js';
import { createFakeUpstreams, depsOf, type FakeUpstreams } from '../../services/gateway/test/fakes/index.js';
import { bearer } from '../../services/gateway/test/auth.js';
import { serve, type ServedApp } from '../../services/gateway/test/serve.js';
import { CaseTable } from './case-table.js';
import { startLocalIdentityProvider, type LocalIdentityProvider } from './local-identity-provider.js';

// Each CLI run is a node start-up, which a loaded machine can make take seconds.
jest.setTimeout(600_000);

const ROOT = resolve(__dirname, '../..');
const CLI_MAIN = join(ROOT, 'packages', 'cli', 'dist', 'main.js');
const AUDIENCE = 'maestro-gateway';
/** CLI processes run at once (each is a node start-up, mostly waiting on module loading). */
const CLI_CONCURRENCY = 4;
const table = new CaseTable('OIDC tokens at the gateway: HTTP, SSE and the CLI');

let idp: LocalIdentityProvider;
let config: GatewayConfig;
let fakes: FakeUpstreams;
let app: ServedApp;
let scratch: string;
let sampleRepo: string;
/** Ids the cases read: acme's task and its (finished) run, acme's running run, globex's task and run. */
const ids = { acmeTask: '', acmeRun: '', acmeLiveRun: '', globexTask: '', globexRun: '' };

// One clock for the whole gateway (the fakes' ManualClock): the verifier checks exp and nbf
// against it, and an open stream's token lapses on it. Tokens are minted from it, and every
// boundary but the one a case moves past is an hour away, far beyond the 60 s skew.
const nowS = (): number => Math.floor(fakes.clock.now() / 1000);
const HOUR_S = 3600;

/** The claims of a valid token of `tenant`, with `extra` on top (`undefined` removes a claim). */
function claims(extra: Record<string, unknown> = {}, tenant = 'acme'): Record<string, unknown> {
  const base: Record<string, unknown> = {
    iss: idp.issuer,
    aud: AUDIENCE,
    sub: `user@${tenant}`,
    tenant,
    scope: 'openid profile maestro:read maestro:submit',
    iat: nowS(),
    exp: nowS() + HOUR_S,
    ...extra,
  };
  return Object.fromEntries(Object.entries(base).filter(([, value]) => value !== undefined));
}

/** A token that must be refused: what it is, how it is made, and what the refusal must say. */
interface BadToken {
  label: string;
  make: () => string | undefined;
  reason: RegExp;
  /** Also tried through the CLI (which relays the gateway's answer, so the issue's list is enough there). */
  cli?: true;
}

/** Replaces the payload of a signed token with `claims` (the signature is left as it was). */
function tamper(token: string, replacement: Record<string, unknown>): string {
  const [header, , signature] = token.split('.');
  return `${header}.${Buffer.from(JSON.stringify(replacement)).toString('base64url')}.${signature}`;
}

const badTokens: BadToken[] = [
  { label: 'no credentials', make: () => undefined, reason: /missing credentials/, cli: true },
  { label: 'expired an hour ago', make: () => idp.mint(claims({ iat: nowS() - 2 * HOUR_S, exp: nowS() - HOUR_S })), reason: /token expired/, cli: true },
  { label: 'signed by an unpublished key (same kid)', make: () => idp.mint(claims(), { by: 'stranger', kid: idp.kid }), reason: /signature not valid/, cli: true },
  { label: 'signed by an unpublished key (its own kid)', make: () => idp.mint(claims(), { by: 'stranger', kid: 'attacker-1' }), reason: /signature not valid/ },
  { label: 'wrong audience', make: () => idp.mint(claims({ aud: 'some-other-api' })), reason: /wrong audience/, cli: true },
  { label: 'wrong issuer', make: () => idp.mint(claims({ iss: 'https://evil.example.test/' })), reason: /wrong issuer/, cli: true },
  { label: 'alg none, no signature', make: () => idp.mint(claims({ scope: 'maestro:admin' }), { by: 'none' }), reason: /algorithm not allowed/, cli: true },
  { label: 'HS256 keyed with the public key PEM', make: () => idp.mint(claims({ scope: 'maestro:admin' }), { by: 'hmac', secret: idp.publicKeyPem }), reason: /algorithm not allowed/, cli: true },
  { label: 'payload tampered (tenant, scope) after signing', make: () => tamper(idp.mint(claims()), claims({ scope: 'maestro:admin' }, 'globex')), reason: /signature not valid/ },
  { label: 'not valid for another hour (nbf)', make: () => idp.mint(claims({ nbf: nowS() + HOUR_S })), reason: /not yet valid/ },
  { label: 'no exp claim', make: () => idp.mint(claims({ exp: undefined })), reason: /token refused/ },
  { label: 'no tenant claim', make: () => idp.mint(claims({ tenant: undefined })), reason: /no tenant claim/ },
];

/** An HTTP answer: status, content type, `WWW-Authenticate`, and the body (a stream's events, up to where reading stopped). */
interface Answer {
  status: number;
  type: string;
  wwwAuthenticate: string | null;
  text: string;
}

/**
 * Sends a request with `token` as the bearer credential (none when undefined). An event stream
 * is read until `enough` says so or the server ends it; `onOpen` runs once its headers arrived.
 */
async function send(
  method: string,
  path: string,
  token: string | undefined,
  options: { body?: unknown; enough?: (text: string) => boolean; onOpen?: () => Promise<void> | void } = {},
): Promise<Answer> {
  const abort = new AbortController();
  const response = await fetch(`${app.url}${path}`, {
    method,
    signal: abort.signal,
    headers: { ...(token !== undefined ? bearer(token) : {}), ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const type = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
  const answer = { status: response.status, type, wwwAuthenticate: response.headers.get('www-authenticate') };
  if (type !== 'text/event-stream' || !response.body) return { ...answer, text: await response.text() };
  await options.onOpen?.();
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    while (!(options.enough?.(text) ?? false)) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
    }
  } finally {
    abort.abort();
  }
  return { ...answer, text };
}

/** The error code and message of a JSON error answer, or undefined when it is not one. */
function errorOf(answer: Answer): { code: string; message: string } | undefined {
  if (answer.type !== 'application/json') return undefined;
  try {
    const body = JSON.parse(answer.text) as { error?: { code?: unknown; message?: unknown } };
    return typeof body.error?.code === 'string' && typeof body.error.message === 'string' ? { code: body.error.code, message: body.error.message } : undefined;
  } catch {
    return undefined;
  }
}

/** Every part of `token` long enough to identify it (the whole token, its payload and its signature). */
function partsOf(token: string | undefined): string[] {
  if (token === undefined) return [];
  return [token, ...token.split('.').slice(1)].filter((part) => part.length >= 16);
}

/** True when `text` carries the token or a recognisable part of it. */
function echoes(text: string, token: string | undefined): boolean {
  return partsOf(token).some((part) => text.includes(part));
}

/** Records one HTTP case: `expected` status (and error code and message), no token in the answer. */
function recordAnswer(label: string, answer: Answer, token: string | undefined, expected: { status: number; code?: string; reason?: RegExp; check?: (a: Answer) => string | undefined }): void {
  const error = errorOf(answer);
  const problems: string[] = [];
  if (answer.status !== expected.status) problems.push(`status ${answer.status}`);
  if (expected.code !== undefined && error?.code !== expected.code) problems.push(`code ${error?.code ?? '(no JSON error)'}`);
  if (expected.reason !== undefined && !expected.reason.test(error?.message ?? '')) problems.push(`message "${error?.message ?? ''}"`);
  if (expected.status === 401 && answer.wwwAuthenticate !== 'Bearer') problems.push(`WWW-Authenticate ${answer.wwwAuthenticate ?? '(none)'}`);
  if (echoes(answer.text, token)) problems.push('the token is echoed');
  const extra = expected.check?.(answer);
  if (extra !== undefined) problems.push(extra);
  table.record({
    case: label,
    expected: `${expected.status}${expected.code ? ` ${expected.code}` : ''}${expected.reason ? ` ${expected.reason.source}` : ''}`,
    got: problems.length === 0 ? `${answer.status}${error ? ` ${error.code}: ${error.message}` : ` ${answer.type}`}` : problems.join('; '),
    pass: problems.length === 0,
  });
}

/** What `maestro` printed and how it ended. */
type CliResult = RunResult;

/** Runs the built `maestro <args>` against the test's gateway, with a private state directory and no key in the environment unless `env` sets one. */
function maestro(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const childEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: scratch, MAESTRO_STATE_DIR: join(scratch, 'state'), ...env };
  return runToEnd(process.execPath, [CLI_MAIN, ...args, '--gateway', app.url], { env: childEnv, cwd: scratch, timeoutMs: 300_000 });
}

/** What a CLI run must end with: its exit code, what stderr and stdout must (not) show. */
interface CliExpectation {
  code: number;
  stderr?: RegExp;
  stdout?: RegExp;
  notStdout?: RegExp;
}

/** Records one CLI case: its exit code, what stderr/stdout must show, and that the token is printed nowhere. */
function recordCli(label: string, result: CliResult, token: string | undefined, expected: CliExpectation): void {
  const problems: string[] = [];
  if (result.code !== expected.code) problems.push(`exit ${result.code}: ${result.stderr.trim().slice(0, 100)}`);
  if (expected.stderr !== undefined && !expected.stderr.test(result.stderr)) problems.push(`stderr "${result.stderr.trim().slice(0, 100)}"`);
  if (expected.stdout !== undefined && !expected.stdout.test(result.stdout)) problems.push(`stdout "${result.stdout.trim().slice(0, 100)}"`);
  if (expected.notStdout !== undefined && expected.notStdout.test(result.stdout)) problems.push(`stdout shows ${expected.notStdout.source}`);
  if (echoes(result.stdout + result.stderr, token)) problems.push('the token is printed');
  table.record({
    case: `CLI: ${label}`,
    expected: `exit ${expected.code}${expected.stderr ? ` ${expected.stderr.source}` : ''}${expected.stdout ? ` ${expected.stdout.source}` : ''}`,
    got: problems.length === 0 ? `exit ${result.code}: ${(expected.stdout?.exec(result.stdout)?.[0] ?? result.stderr.trim()).split('\n')[0]!.slice(0, 90)}` : problems.join('; '),
    pass: problems.length === 0,
  });
}

/** One run of the CLI: its arguments (and environment), the token it carries, what must come of it. */
interface CliCase {
  label: string;
  args: string[];
  env?: Record<string, string>;
  token: string | undefined;
  expected: CliExpectation;
}

/** Runs `work` over `items`, at most `concurrency` at once, and returns the results in the items' order. */
async function inBatches<T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += concurrency) results.push(...(await Promise.all(items.slice(i, i + concurrency).map(work))));
  return results;
}

/** Waits until `condition` holds (a state of the fakes, never a duration). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 10));
}

beforeAll(async () => {
  idp = await startLocalIdentityProvider();
  scratch = mkdtempSync(join(tmpdir(), 'maestro-oidc-'));
  mkdirSync(join(scratch, 'state'));
  fakes = createFakeUpstreams();

  // The gateway's own configuration, from the variables an operator sets, and its wiring.
  config = checkGatewayConfig(
    loadConfig(gatewayConfigSpec, {
      MAESTRO_GATEWAY_AUTH: 'api-keys,oidc',
      MAESTRO_OIDC_ISSUER: idp.issuer,
      MAESTRO_OIDC_AUDIENCE: AUDIENCE,
      MAESTRO_OIDC_JWKS_URL: idp.jwksUrl,
    }),
  );
  expect(acceptsCredential(config, 'api-keys') && acceptsCredential(config, 'oidc')).toBe(true);
  // As `gateway.ts` builds them, on the app's clock (production leaves both on the system clock).
  const oidc = createOidcVerifier({
    issuer: config.oidcIssuer,
    audience: config.oidcAudience,
    jwksUrl: config.oidcJwksUrl,
    clockSkewS: config.oidcClockSkewS,
    tenantClaim: config.oidcTenantClaim,
    clock: fakes.clock,
  });
  const authenticator = createAuthenticator({ keys: fakes.auth.store, oidc, clock: fakes.clock, logger: createSilentLogger() });
  app = await serve(depsOf(fakes, { auth: { authenticator, keys: fakes.auth.store } }));

  // Data of two tenants: acme's task with a finished run and a run still going; globex's task
  // (submitted over HTTP with a globex API key: the gateway takes both kinds of credential) and run.
  const gitDir = join(scratch, 'repo');
  mkdirSync(join(gitDir, '.git'), { recursive: true });
  const coding = { id: 'coding', initial: 'plan', states: { plan: { on: { PLANNED: 'done' } }, done: { type: 'final' } } };
  await fakes.workflow.putDefinition({ tenant: 'acme', name: 'coding', definition: coding });
  const acmeTask = await fakes.orchestrator.submitTask({
    tenant: 'acme', goal: 'Add a --verbose flag', repoPath: gitDir, testCommand: [], project: 'demo', idempotencyKey: '', budget: undefined, workflow: '', memoryScopes: [],
  });
  const acmeRun = await fakes.workflow.startRun('coding', { taskId: acmeTask.id }, 1, 'acme');
  await fakes.workflow.sendEvent({ tenant: 'acme', runId: acmeRun.id, type: 'PLANNED', payload: {} });
  Object.assign(acmeTask, { runId: acmeRun.id, status: 'succeeded' });
  const acmeLiveRun = await fakes.workflow.startRun('coding', {}, 1, 'acme');
  const globexKey = await fakes.auth.keyFor(['submit'], { tenant: 'globex' });
  const globexSubmit = await send('POST', '/v1/tasks', globexKey, { body: { goal: 'Rename the billing module', repoPath: gitDir } });
  expect(globexSubmit.status).toBe(201);
  const globexRun = await fakes.workflow.startRun('coding', {}, 1, 'globex');
  Object.assign(ids, {
    acmeTask: acmeTask.id,
    acmeRun: acmeRun.id,
    acmeLiveRun: acmeLiveRun.id,
    globexTask: (JSON.parse(globexSubmit.text) as { id: string }).id,
    globexRun: globexRun.id,
  });
  sampleRepo = prepareSampleRepo(ROOT).repo;
});

afterAll(async () => {
  await app?.close();
  await idp?.close();
  for (const dir of [scratch, sampleRepo]) if (dir) rmSync(dir, { recursive: true, force: true });
  table.print();
});

it('refuses every bad token with 401 over HTTP and SSE, saying why, before any route runs', async () => {
  const before = new Set(table.cases);
  const routes = [
    { label: 'GET /v1/tasks', path: () => '/v1/tasks' },
    { label: 'GET /v1/tasks/:id', path: () => `/v1/tasks/${ids.acmeTask}` },
    { label: 'SSE /v1/events', path: () => '/v1/events' },
    { label: 'SSE /v1/runs/:id/events', path: () => `/v1/runs/${ids.acmeLiveRun}/events` },
  ];
  for (const bad of badTokens) {
    const token = bad.make();
    for (const route of routes) {
      const answer = await send('GET', route.path(), token, { enough: () => true });
      recordAnswer(`${route.label}, ${bad.label}`, answer, token, { status: 401, code: 'UNAUTHENTICATED', reason: bad.reason });
    }
  }
  // Nothing reached a handler: no stream was opened for any of them.
  table.record({
    case: 'no event stream opened by a refused request',
    expected: '0 lifecycle listeners, 0 watched runs',
    got: `${fakes.hub.lifecycleListenerCount} lifecycle listeners, ${fakes.hub.watchedRuns} watched runs`,
    pass: fakes.hub.lifecycleListenerCount === 0 && fakes.hub.watchedRuns === 0,
  });
  // The keys really came from the provider's endpoint, not from a key the test handed over.
  table.record({ case: 'the gateway read the provider\'s JWKS over HTTP', expected: '≥ 1 request', got: `${idp.jwksRequests} requests`, pass: idp.jwksRequests >= 1 });
  expect(table.failures().filter((c) => !before.has(c))).toEqual([]);
});

it('lets a valid token read only its own tenant: 200 for acme\'s tasks and runs, 404 (not 403) for globex\'s', async () => {
  const before = new Set(table.cases);
  const acme = idp.mint(claims());
  const globex = idp.mint(claims({}, 'globex'));

  recordAnswer('acme token, GET /v1/tasks', await send('GET', '/v1/tasks', acme), acme, {
    status: 200,
    check: (a) => {
      const listed = (JSON.parse(a.text) as { tasks: Array<{ id: string; tenant: string }> }).tasks;
      return listed.length === 1 && listed[0]!.id === ids.acmeTask && listed[0]!.tenant === 'acme' ? undefined : `listed ${JSON.stringify(listed.map((t) => `${t.id}/${t.tenant}`))}`;
    },
  });
  recordAnswer('acme token, GET /v1/tasks/:id of acme', await send('GET', `/v1/tasks/${ids.acmeTask}`, acme), acme, { status: 200 });
  recordAnswer('acme token, GET /v1/tasks/:id of globex', await send('GET', `/v1/tasks/${ids.globexTask}`, acme), acme, { status: 404, code: 'TASK_NOT_FOUND' });
  recordAnswer('globex token, GET /v1/tasks/:id of acme', await send('GET', `/v1/tasks/${ids.acmeTask}`, globex), globex, { status: 404, code: 'TASK_NOT_FOUND' });
  recordAnswer('globex token, GET /v1/tasks', await send('GET', '/v1/tasks', globex), globex, {
    status: 200,
    check: (a) => {
      const listed = (JSON.parse(a.text) as { tasks: Array<{ id: string }> }).tasks.map((t) => t.id);
      return listed.length === 1 && listed[0] === ids.globexTask ? undefined : `listed ${JSON.stringify(listed)}`;
    },
  });
  recordAnswer('acme token, GET /v1/runs/:id of globex', await send('GET', `/v1/runs/${ids.globexRun}`, acme), acme, { status: 404, code: 'RUN_NOT_FOUND' });

  // The run's stream: acme's replays its history and ends with run.finished; globex's is unknown.
  recordAnswer('acme token, SSE /v1/runs/:id/events of acme (finished run)', await send('GET', `/v1/runs/${ids.acmeRun}/events`, acme), acme, {
    status: 200,
    check: (a) => (a.type === 'text/event-stream' && a.text.includes('event: run.finished') ? undefined : `${a.type}: ${a.text.slice(0, 80)}`),
  });
  recordAnswer('acme token, SSE /v1/runs/:id/events of globex', await send('GET', `/v1/runs/${ids.globexRun}/events`, acme), acme, { status: 404, code: 'RUN_NOT_FOUND' });

  // The lifecycle stream: globex's events are dispatched first, acme's after; only acme's arrive.
  const lifecycle = await send('GET', '/v1/events', acme, {
    enough: (text) => text.includes('"taskId":"acme-marker"'),
    onOpen: async () => {
      await until(() => fakes.hub.lifecycleListenerCount === 1);
      fakes.hub.dispatch({ subject: 'maestro.events.task.updated', payload: { taskId: 'globex-marker', tenant: 'globex', status: 'running' } });
      fakes.hub.dispatch({ subject: 'maestro.events.task.updated', payload: { taskId: 'acme-marker', tenant: 'acme', status: 'running' } });
    },
  });
  recordAnswer('acme token, SSE /v1/events: acme\'s events only', lifecycle, acme, {
    status: 200,
    check: (a) => (a.text.includes('acme-marker') && !a.text.includes('globex-marker') ? undefined : `read ${a.text.slice(0, 120)}`),
  });

  // A stream outlives its request: once the token's exp (plus the skew) passes, the stream says
  // so and ends, without the token in what it sent.
  const shortLived = idp.mint(claims({ exp: nowS() + 300 }));
  const lapsed = await send('GET', '/v1/events', shortLived, {
    // A stream left open would deliver the marker (and stop the read here instead of hanging).
    enough: (text) => text.includes('after-expiry-marker'),
    onOpen: async () => {
      await until(() => fakes.hub.lifecycleListenerCount === 1);
      fakes.clock.advance((300 + config.oidcClockSkewS + 1) * 1000);
      fakes.hub.dispatch({ subject: 'maestro.events.task.updated', payload: { taskId: 'after-expiry-marker', tenant: 'acme', status: 'running' } });
    },
  });
  recordAnswer('acme token expiring while SSE /v1/events is open', lapsed, shortLived, {
    status: 200,
    check: (a) =>
      /event: unauthenticated\ndata: .*token expired/.test(a.text) && !a.text.includes('after-expiry-marker') && fakes.hub.lifecycleListenerCount === 0
        ? undefined
        : `stream ended with ${JSON.stringify(a.text.slice(-120))}, ${fakes.hub.lifecycleListenerCount} listeners left`,
  });
  expect(table.failures().filter((c) => !before.has(c))).toEqual([]);
});

it('refuses a valid token without the needed maestro scope with 403, and accepts a submit with it', async () => {
  const before = new Set(table.cases);
  const submit = { goal: 'Add a --quiet flag', repoPath: join(scratch, 'repo') };
  const noScopes = idp.mint(claims({ scope: 'openid profile email' }));
  const readOnly = idp.mint(claims({ scope: 'openid maestro:read' }));
  const tasksBefore = fakes.orchestrator.tasks.length;
  recordAnswer('token without maestro scopes, POST /v1/tasks', await send('POST', '/v1/tasks', noScopes, { body: submit }), noScopes, { status: 403, code: 'SCOPE_MISSING', reason: /submit/ });
  recordAnswer('token without maestro scopes, GET /v1/tasks', await send('GET', '/v1/tasks', noScopes), noScopes, { status: 403, code: 'SCOPE_MISSING', reason: /read/ });
  recordAnswer('token without maestro scopes, SSE /v1/events', await send('GET', '/v1/events', noScopes, { enough: () => true }), noScopes, { status: 403, code: 'SCOPE_MISSING', reason: /read/ });
  recordAnswer('read-only token, POST /v1/tasks', await send('POST', '/v1/tasks', readOnly, { body: submit }), readOnly, { status: 403, code: 'SCOPE_MISSING', reason: /submit/ });
  table.record({ case: 'no task submitted by a refused request', expected: `${tasksBefore} tasks`, got: `${fakes.orchestrator.tasks.length} tasks`, pass: fakes.orchestrator.tasks.length === tasksBefore });
  const acme = idp.mint(claims());
  const submitted = await send('POST', '/v1/tasks', acme, { body: submit });
  recordAnswer('acme token with maestro:submit, POST /v1/tasks', submitted, acme, {
    status: 201,
    check: (a) => {
      const tenant = (JSON.parse(a.text) as { tenant?: string }).tenant;
      return tenant === 'acme' ? undefined : `tenant ${tenant}`;
    },
  });
  // Leave the lists as the CLI cases expect them: one task per tenant.
  fakes.orchestrator.tasks.splice(fakes.orchestrator.tasks.findIndex((t) => t.id === (JSON.parse(submitted.text) as { id: string }).id), 1);
  expect(table.failures().filter((c) => !before.has(c))).toEqual([]);
});

it('the CLI: a refused token exits 1 saying why and never printed; a valid one lists and follows its own tenant\'s tasks', async () => {
  const before = new Set(table.cases);
  const expired = badTokens.find((b) => b.label.startsWith('expired'))!.make()!;
  const strangers = badTokens.find((b) => b.label.startsWith('signed by an unpublished key (same'))!.make()!;
  const acme = idp.mint(claims());
  const readOnly = idp.mint(claims({ scope: 'maestro:read' }));
  const refused = (reason: RegExp): RegExp => new RegExp(`the gateway refused the credentials: .*${reason.source}`);
  const cases: CliCase[] = [
    ...badTokens.filter((bad) => bad.cli).map((bad): CliCase => {
      const token = bad.make();
      return { label: `ls, ${bad.label}`, args: ['ls', ...(token !== undefined ? ['--api-key', token] : [])], token, expected: { code: 1, stderr: refused(bad.reason) } };
    }),
    { label: 'logs --follow, expired token', args: ['logs', ids.acmeTask, '--follow', '--api-key', expired], token: expired, expected: { code: 1, stderr: refused(/token expired/) } },
    { label: 'logs --follow, stranger-signed token', args: ['logs', ids.acmeTask, '--follow', '--api-key', strangers], token: strangers, expected: { code: 1, stderr: refused(/signature not valid/) } },
    { label: 'ls, expired token in MAESTRO_API_KEY', args: ['ls'], env: { MAESTRO_API_KEY: expired }, token: expired, expected: { code: 1, stderr: refused(/token expired/) } },
    {
      label: 'ls, valid acme token',
      args: ['ls', '--api-key', acme],
      token: acme,
      expected: { code: 0, stdout: new RegExp(`^${ids.acmeTask} +succeeded.*$`, 'm'), notStdout: new RegExp(`^${ids.globexTask} `, 'm') },
    },
    { label: 'ls, valid acme token in MAESTRO_API_KEY', args: ['ls'], env: { MAESTRO_API_KEY: acme }, token: acme, expected: { code: 0, stdout: new RegExp(`^${ids.acmeTask} .*$`, 'm') } },
    { label: 'logs --follow, valid acme token, acme task', args: ['logs', ids.acmeTask, '--follow', '--api-key', acme], token: acme, expected: { code: 0, stdout: /run +finished: done.*/ } },
    { label: 'show, valid acme token, globex task', args: ['show', ids.globexTask, '--api-key', acme], token: acme, expected: { code: 1, stderr: /not found|does not exist/ } },
    { label: 'logs --follow, valid acme token, globex task', args: ['logs', ids.globexTask, '--follow', '--api-key', acme], token: acme, expected: { code: 1, stderr: /not found|does not exist/ } },
    { label: 'run, read-only token', args: ['run', 'Add a --quiet flag', '--repo', sampleRepo, '--api-key', readOnly], token: readOnly, expected: { code: 1, stderr: /needs scope submit/ } },
  ];
  // Each run starts a node process; a few at a time, recorded in the order listed.
  const results = await inBatches(cases, CLI_CONCURRENCY, (c) => maestro(c.args, c.env));
  cases.forEach((c, i) => recordCli(c.label, results[i]!, c.token, c.expected));
  expect(table.failures().filter((c) => !before.has(c))).toEqual([]);
});
