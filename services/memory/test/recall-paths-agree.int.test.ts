/**
 * The two vector paths give the same recall on the same data: the same memories, written in the
 * same order at the same (manual-clock) times, into pgvector on PGlite and into the exact scan
 * on PostgreSQL; then the same queries. Hits, ranks, scores and reasons must be identical, and
 * the full vector ranking of every query the same, with similarities equal to 4 decimals.
 */
import type { RecallResult } from '../src/app/recall-memories.js';
import { MemoryHarness, openBackend, PGLITE_START_TIMEOUT_MS } from './support/memory-harness.js';
import type { Backend } from './support/memory-harness.js';

/** Notes of the kind agents keep, some close to each other on purpose. */
const notes: Array<{ content: string; kind?: 'preference' | 'project' | 'reflex'; tags?: string[]; scope?: string; pinned?: boolean }> = [
  { content: 'Use pnpm, never npm or yarn, for every install in this monorepo.', kind: 'preference', tags: ['tooling'] },
  { content: 'Integration tests need Redis running on 127.0.0.1:6379 before jest starts.', kind: 'reflex', tags: ['testing'] },
  { content: 'Run the date tests with TZ=UTC; they fail with a local timezone offset.', kind: 'reflex' },
  { content: 'The gateway owns the HTTP API; services talk gRPC for questions and NATS for facts.' },
  { content: 'Configure the retryPolicy before calling the payments client.' },
  { content: 'The lock manager keeps leases in Redis and fences writers with rising tokens.' },
  { content: 'Redis keeps the manager of the lock in a hash per concern.' },
  { content: 'Never touch generated code under packages/contracts/src/gen; run make proto instead.', kind: 'preference', pinned: true },
  { content: 'Migrations are appended, never edited once applied; each service owns one schema.' },
  { content: 'The web app is built with Vite and served by fastify in production.' },
  { content: 'Prefer named exports everywhere; default exports are refused by the linter.', kind: 'preference', tags: ['typescript', 'style'] },
  { content: 'Commit messages in the imperative mood, one subject line under 72 characters.', kind: 'preference' },
  { content: 'Alice wants short pnpm output in her terminal.', kind: 'preference', scope: 'user:alice' },
  { content: 'The core team runs pnpm install with --frozen-lockfile in CI.', kind: 'preference', scope: 'team:core' },
  { content: 'When the nightly deploy fails with a stale schema cache, delete the runner lock row; error id 0x7f3a.', kind: 'reflex' },
  { content: 'The executor runs each subtask in its own git worktree under .maestro/worktrees.' },
  { content: 'Workflows are JSON statecharts interpreted by xstate in the workflow engine.' },
  { content: 'Circuit breakers open after five consecutive provider failures and half-open after 30 seconds.' },
  { content: 'Token counts use o200k_base offline; an estimate is labelled as one.' },
  { content: 'Backoff timers use the injected clock so tests never sleep.' },
  { content: 'The orchestrator plans with the strategic model and reviews every merge.' },
  { content: 'Executors recall memories for their subtask and put them in the system prompt.' },
  { content: 'PostgreSQL on 5432 trusts local connections; tests create a fresh database per file.', kind: 'reflex', tags: ['testing'] },
  { content: 'Use the timeout option of the SDK, never a bare setTimeout around a provider call.', kind: 'preference' },
  { content: 'Lint before pushing: pnpm lint runs eslint over every package.', kind: 'reflex' },
];

const queries: Array<{ query: string; kind?: string; scopes?: string[]; limit?: number }> = [
  { query: 'redis' },
  { query: 'how do I run the tests locally', limit: 10 },
  { query: 'retry policy' },
  { query: '"lock manager"' },
  { query: 'redis lock manager -leases', limit: 10 },
  { query: 'pnpm', scopes: ['user:alice', 'team:core'], limit: 10 },
  { query: 'timezone date tests', kind: 'reflex' },
  { query: '0x7f3a' },
  { query: 'timout for provider calls' },
  { query: 'generated code proto' },
  { query: 'worktree per subtask git', limit: 8 },
  { query: 'circuit breaker provider failures' },
  { query: 'statechart workflow engine xstate' },
  { query: 'kubernetes helm chart' },
];

let pg: Backend;
let lite: Backend;
let onPostgres: MemoryHarness;
let onPglite: MemoryHarness;

beforeAll(async () => {
  [pg, lite] = await Promise.all([openBackend('postgres'), openBackend('pglite')]);
  onPostgres = await MemoryHarness.create(pg);
  onPglite = await MemoryHarness.create(lite);
  for (const h of [onPostgres, onPglite]) {
    for (const note of notes) await h.remember(note.content, note);
  }
}, PGLITE_START_TIMEOUT_MS);

afterAll(async () => {
  await onPostgres?.close();
  await onPglite?.close();
  await pg?.close();
  await lite?.close();
});

/** A recall without ids (they differ between databases). */
function comparable(result: RecallResult) {
  return {
    vectorSearch: result.vectorSearch === 'none' ? 'none' : 'some',
    warning: result.warning,
    hits: result.hits.map((h) => ({ content: h.memory.content, score: h.score, why: h.why, keywordRank: h.keywordRank, vectorRank: h.vectorRank })),
  };
}

it('searches with pgvector on PGlite and with the exact scan on PostgreSQL', () => {
  expect(onPglite.parts.index.kind).toBe('pgvector');
  expect(onPostgres.parts.index.kind).toBe('exact-scan');
});

it.each(queries)('recalls the same for %j', async ({ query, kind, scopes, limit }) => {
  const [a, b] = await Promise.all([onPostgres.recall(query, { kind, scopes, limit }), onPglite.recall(query, { kind, scopes, limit })]);
  expect(comparable(b)).toEqual(comparable(a));
  expect(a.hits.length).toBeGreaterThan(0);
});

it('ranks every memory alike by vector similarity, for every query', async () => {
  for (const { query } of queries) {
    const [vector] = await onPostgres.embedder.embed([query]);
    const search = (h: MemoryHarness) =>
      h.parts.index.search({
        embedderId: h.embedder.id,
        vector: vector!,
        filter: { tenant: undefined, project: 'acme/web', scopes: ['project', 'user:alice', 'team:core'], kind: undefined, now: new Date(h.clock.now()) },
        exclusions: '',
        minSimilarity: -1,
        limit: 100,
      });
    const [a, b] = await Promise.all([search(onPostgres), search(onPglite)]);
    expect(a).toHaveLength(notes.length);
    expect(b.map((x) => x.memory.content)).toEqual(a.map((x) => x.memory.content));
    b.forEach((x, i) => expect(Math.abs(x.similarity - a[i]!.similarity)).toBeLessThanOrEqual(1e-4));
  }
});
