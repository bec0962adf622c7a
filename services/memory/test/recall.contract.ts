/**
 * The recall contract, run on both vector paths (pgvector on PGlite, the exact scan on
 * PostgreSQL): hybrid recall (keyword ∪ vector, fused by rank) with pins, scopes, kinds,
 * expiry and statuses; the embedder going down (keyword only, with a warning, never a
 * failure); re-embedding after an embedder change without losing recall meanwhile; and the
 * writes that shape what recall sees (Update, Learn).
 */
import { MaestroError } from '@maestro/runtime';
import { REFLEX_POLICY_DEFAULTS } from '../src/domain/confidence.js';
import { validateLearn } from '../src/domain/lesson.js';
import { EMBEDDING_TEXT_MAX_CHARS, MemoryLimits } from '../src/domain/memory.js';
import { validateList, validateUpdate } from '../src/domain/memory-requests.js';
import { parseRecallQuery } from '../src/domain/recall-query.js';
import { contents, MemoryHarness } from './support/memory-harness.js';
import type { Backend } from './support/memory-harness.js';
import { RefusingEmbedder, ShortVectorEmbedder, SwitchableEmbedder } from './support/test-embedders.js';

const DAY = 86_400_000;

/** Runs the recall contract on the file's backend (opened by the caller, emptied before each test). */
export function defineRecallContract(name: string, backend: () => Backend): void {
  describe(`recall contract: ${name}`, () => {
    let h: MemoryHarness;

    beforeEach(async () => {
      h = await MemoryHarness.create(backend());
    });
    afterEach(async () => {
      await h.close();
    });

    const now = (): Date => new Date(h.clock.now());
    const update = (input: Parameters<typeof validateUpdate>[0]) => h.memory.update(validateUpdate(input, now()), h.logger);
    const learn = (content: string, topic: string, taskId: string, tenant = '') =>
      h.memory.learn(
        validateLearn({
          tenant,
          project: 'acme/web',
          content,
          topic,
          provenance: { taskId, subtaskId: 's1', commitSha: 'abc123', testEvidence: 'npm test: passed', failingTests: ['dates.test.ts'] },
          confidence: 0,
          author: 'rule',
          tags: [],
        }),
        h.logger,
      );
    const list = (patch: Partial<Parameters<typeof validateList>[0]> = {}) =>
      h.memory.list(validateList({ project: 'acme/web', kind: '', limit: 0, ...patch }));
    const errorOf = async (promise: Promise<unknown>): Promise<MaestroError> => {
      const err: unknown = await promise.then(
        () => undefined,
        (e: unknown) => e,
      );
      if (!(err instanceof MaestroError)) throw new Error(`expected a maestro error, got ${String(err)}`);
      return err;
    };

    describe('hybrid recall', () => {
      it('finds by vector what keyword search misses: a word-piece match (retryPolicy ~ "retry policy")', async () => {
        const retry = await h.remember('Configure the retryPolicy before calling the payments client.');
        await h.remember('Integration tests need Redis running on port 6379 before jest starts.');
        await h.remember('The web app is built with Vite and served by fastify.');

        // Keyword search alone does not see it: the parser keeps "retrypolicy" as one word.
        const filter = { tenant: undefined, project: 'acme/web', scopes: ['project'], kind: undefined, now: now() };
        expect(await h.parts.store.keywordSearch(parseRecallQuery('retry policy'), filter, 10)).toEqual([]);

        const result = await h.recall('retry policy');
        expect(result.vectorSearch).toBe(h.parts.index.kind);
        expect(result.warning).toBe('');
        expect(result.hits[0]).toMatchObject({ memory: { id: retry.id }, keywordRank: 0, vectorRank: 1 });
        expect(result.hits[0]!.why).toMatch(/^vector rank 1 \(cosine 0\.\d\d\)$/);
        expect(result.hits[0]!.score).toBeCloseTo(1 / 61, 10);
      });

      it('finds by keyword what vector search misses: an exact rare token in a long note', async () => {
        const deploy = await h.remember(
          'When the nightly deploy of the billing service fails half way with the message that the schema cache is stale, ' +
            'the migration runner left a lock row behind: delete the row from the runner table, rerun the migrations by ' +
            'hand, check that the dashboards show the new version and only then reopen traffic; the error id is 0x7f3a.',
        );
        await h.remember('Configure the retryPolicy before calling the payments client.');
        const result = await h.recall('0x7f3a');
        expect(result.hits[0]).toMatchObject({ memory: { id: deploy.id }, keywordRank: 1, vectorRank: 0 });
        expect(result.hits[0]!.why).toMatch(/^keyword rank 1 \(ts_rank \d\.\d{3}\)$/);
      });

      it('fuses both lists: a memory in both outranks one found by a single list', async () => {
        const both = await h.remember('Redis runs on port 6379 in every environment.');
        const vectorOnly = await h.remember('The redisPort setting lives in config/cache.ts.');
        await h.remember('The web app is built with Vite and served by fastify.');
        const result = await h.recall('redis port');
        expect(result.hits.map((x) => x.memory.id)).toEqual([both.id, vectorOnly.id]);
        const [first, second] = result.hits;
        expect(first).toMatchObject({ keywordRank: 1 });
        expect(first!.vectorRank).toBeGreaterThan(0);
        expect(first!.score).toBeCloseTo(1 / 61 + 1 / (60 + first!.vectorRank), 12);
        expect(second).toMatchObject({ keywordRank: 0 });
        expect(second!.score).toBeCloseTo(1 / (60 + second!.vectorRank), 12);
      });

      it('stems words, matches tags as well as content, and stays within the project', async () => {
        const tests = await h.remember('Integration tests need Redis running before jest starts.', { tags: ['ci'] });
        const tagged = await h.remember('Prefer named exports everywhere.', { tags: ['typescript', 'style'], kind: 'preference' });
        await h.remember('Integration tests need Redis running.', { project: 'other/repo' });
        const stemmed = await h.recall('running integration test redis');
        expect(stemmed.hits[0]).toMatchObject({ memory: { id: tests.id }, keywordRank: 1 });
        expect(stemmed.hits.every((x) => x.memory.project === 'acme/web')).toBe(true);
        expect((await h.recall('typescript')).hits[0]).toMatchObject({ memory: { id: tagged.id }, keywordRank: 1 });
      });

      it('finds notes that share only some of the words when none has them all', async () => {
        const pnpm = await h.remember('Always use pnpm workspaces.', { tags: ['tooling'], kind: 'preference' });
        await h.remember('Services talk gRPC for questions and NATS for facts.');
        const result = await h.recall('which package manager and workspaces does this repo use?');
        expect(result.hits[0]).toMatchObject({ memory: { id: pnpm.id }, keywordRank: 1 });
      });

      it('keeps web-search syntax: a quoted phrase, and exclusions that hold for vector hits too', async () => {
        const phrase = await h.remember('The lock manager keeps leases in Redis.');
        const scrambled = await h.remember('Redis keeps the manager of the lock.');
        const keyword = await h.recall('"lock manager"');
        expect(keyword.hits.filter((x) => x.keywordRank > 0).map((x) => x.memory.id)).toEqual([phrase.id]);
        expect(keyword.hits[0]!.memory.id).toBe(phrase.id);
        const excluded = await h.recall('redis lock manager -leases');
        expect(excluded.hits.map((x) => x.memory.id)).toEqual([scrambled.id]);
      });

      it('falls back to the newest memories (score 0, "recent") when nothing matches', async () => {
        const older = await h.remember('The API lives in services/gateway.');
        const newer = await h.remember('Workflows are JSON definitions.');
        const result = await h.recall('kubernetes helm chart');
        expect(result.hits.map((x) => [x.memory.id, x.score, x.why])).toEqual([
          [newer.id, 0, 'recent'],
          [older.id, 0, 'recent'],
        ]);
      });

      it('returns nothing for a project without memories', async () => {
        expect((await h.recall('anything', { project: 'empty/project' })).hits).toEqual([]);
      });

      it('honours the limit (default 5)', async () => {
        for (let i = 0; i < 8; i++) await h.remember(`Lesson ${i}: always run the linter before commit.`);
        expect((await h.recall('linter')).hits).toHaveLength(5);
        expect((await h.recall('linter', { limit: 2 })).hits).toHaveLength(2);
        expect((await h.recall('nothing-matches-this', { limit: 3 })).hits).toHaveLength(3);
      });
    });

    describe('tenants', () => {
      it("recalls, lists, updates and forgets within the caller's tenant; an empty tenant sees every tenant's", async () => {
        const acme = await h.remember('Integration tests need Redis running on port 6379.', { tenant: 'acme', pinned: true });
        const globex = await h.remember('Integration tests need Redis running on port 6380.', { tenant: 'globex' });
        const internal = await h.remember('Integration tests need Redis running on port 6381.');
        expect([acme.tenant, globex.tenant, internal.tenant]).toEqual(['acme', 'globex', 'default']);

        const recalled = async (tenant: string) => (await h.recall('redis port', { tenant })).hits.map((x) => x.memory.id).sort();
        expect(await recalled('acme')).toEqual([acme.id]);
        expect(await recalled('globex')).toEqual([globex.id]);
        expect(await recalled('default')).toEqual([internal.id]);
        expect(await recalled('nobody')).toEqual([]);
        expect(await recalled('')).toEqual([acme.id, globex.id, internal.id].sort());
        expect((await list({ tenant: 'globex' })).map((m) => m.id)).toEqual([globex.id]);
        expect((await list({ tenant: '' })).map((m) => m.id)).toEqual([internal.id, globex.id, acme.id]);

        // Another tenant's memory is "no such memory": NOT_FOUND on update, nothing to forget.
        const unknown = await errorOf(update({ tenant: 'globex', id: '00000000-0000-4000-8000-000000000000', content: 'x', tags: [], setTags: false, clearExpiry: false }));
        const foreign = await errorOf(update({ tenant: 'globex', id: acme.id, content: 'x', tags: [], setTags: false, clearExpiry: false }));
        expect(foreign.code).toBe(unknown.code);
        expect(foreign.message).toBe(unknown.message.replace('00000000-0000-4000-8000-000000000000', acme.id));
        expect(await h.memory.forget({ id: acme.id, tenant: 'globex' })).toBe(false);
        expect((await list({ tenant: 'acme' })).map((m) => m.content)).toEqual([acme.content]);
        expect((await update({ tenant: 'acme', id: acme.id, pinned: false, tags: [], setTags: false, clearExpiry: false })).pinned).toBe(false);
        expect(await h.memory.forget({ id: acme.id, tenant: 'acme' })).toBe(true);
        expect(await h.memory.forget({ id: globex.id, tenant: undefined })).toBe(true);
      });

      it('learns per tenant: the same topic in two tenants makes two reflexes, never a merge across them', async () => {
        const first = await learn('Set TZ=UTC in the test script.', 'dates.test.ts fails with a timezone offset', 't1', 'acme');
        const second = await learn('Set TZ=UTC in the test script.', 'dates.test.ts fails with a timezone offset', 't2', 'globex');
        expect([first.outcome, second.outcome]).toEqual(['created', 'created']);
        expect([first.memory.tenant, second.memory.tenant]).toEqual(['acme', 'globex']);
        expect((await learn('Set TZ=UTC in the test script.', 'dates.test.ts fails with a timezone offset', 't3', 'acme')).memory.id).toBe(first.memory.id);
        expect((await learn('Set TZ=UTC in the test script.', 'dates.test.ts fails with a timezone offset', 't4')).memory.tenant).toBe('default');
      });
    });

    describe('filters and pins', () => {
      it('puts pinned memories of the project first, whatever the query', async () => {
        const pinned = await h.remember('Never touch generated code under src/gen.', { pinned: true, kind: 'preference' });
        const match = await h.remember('Integration tests need Redis running on port 6379.');
        await h.remember('Pinned elsewhere.', { pinned: true, project: 'other/repo' });
        const result = await h.recall('redis integration tests');
        expect(result.hits.map((x) => x.memory.id)).toEqual([pinned.id, match.id]);
        expect(result.hits[0]).toMatchObject({ why: 'pinned', score: 0, keywordRank: 0, vectorRank: 0 });
      });

      it('searches the project scope plus the scopes asked for, never others', async () => {
        const project = await h.remember('Use pnpm for every install.', { kind: 'preference' });
        const alice = await h.remember('Alice wants pnpm output kept short.', { kind: 'preference', scope: 'user:alice' });
        const team = await h.remember('The core team runs pnpm with --frozen-lockfile.', { kind: 'preference', scope: 'team:core' });
        await h.remember('Bob wants pnpm output verbose.', { kind: 'preference', scope: 'user:bob' });
        const ids = async (scopes: string[]) => (await h.recall('pnpm', { scopes })).hits.map((x) => x.memory.id).sort();
        expect(await ids([])).toEqual([project.id]);
        expect(await ids(['user:alice'])).toEqual([project.id, alice.id].sort());
        expect(await ids(['user:alice', 'team:core'])).toEqual([project.id, alice.id, team.id].sort());
      });

      it('filters by kind when asked', async () => {
        await h.remember('Deploy with helm.', { kind: 'preference' });
        const reflex = await h.remember('Deploy failed last time: run migrations first.', { kind: 'reflex' });
        expect((await h.recall('deploy', { kind: 'reflex' })).hits.map((x) => x.memory.id)).toEqual([reflex.id]);
      });

      it('stops recalling a memory once it expires', async () => {
        const expiring = await h.remember('The staging database is read-only this week.', { expiresAt: new Date(h.clock.now() + DAY) });
        expect((await h.recall('staging database')).hits.map((x) => x.memory.id)).toEqual([expiring.id]);
        h.clock.advance(2 * DAY);
        expect((await h.recall('staging database')).hits).toEqual([]);
      });

      it('does not recall retired memories; restoring brings them back', async () => {
        const m = await h.remember('Integration tests need Redis running.');
        await update({ id: m.id, status: 'retired', tags: [], setTags: false, clearExpiry: false });
        expect((await h.recall('redis')).hits).toEqual([]);
        await update({ id: m.id, status: 'active', tags: [], setTags: false, clearExpiry: false });
        expect((await h.recall('redis')).hits.map((x) => x.memory.id)).toEqual([m.id]);
      });

      it('trusts a learned reflex less as it ages (half-life 90 days), and says so', async () => {
        const old = await learn('Run the date tests with TZ=UTC set.', 'dates.test.ts fails with a timezone offset', 'task-1');
        h.clock.advance(90 * DAY);
        const fresh = await learn('Run the date tests with the fake clock enabled.', 'dates.test.ts fails when run at midnight', 'task-2');
        const result = await h.recall('date tests');
        expect(result.hits.map((x) => x.memory.id)).toEqual([fresh.memory.id, old.memory.id]);
        const [first, second] = result.hits;
        expect(first!.why).toMatch(/confidence 0\.60$/);
        expect(second!.why).toMatch(/confidence 0\.30$/);
        // Same ranks would give the same fused score; the older one's is halved.
        const rrf = (x: typeof first) => (x!.keywordRank ? 1 / (60 + x!.keywordRank) : 0) + (x!.vectorRank ? 1 / (60 + x!.vectorRank) : 0);
        expect(first!.score).toBeCloseTo(rrf(first) * 0.6, 10);
        expect(second!.score).toBeCloseTo(rrf(second) * 0.3, 10);
      });
    });

    describe('when the embedder is down', () => {
      it('recalls by keyword only, with a warning, logged at warn, never failing', async () => {
        const m = await h.remember('Integration tests need Redis running on port 6379.');
        (h.embedder as SwitchableEmbedder).down = true;
        const result = await h.recall('redis tests');
        expect(result.hits.map((x) => [x.memory.id, x.vectorRank])).toEqual([[m.id, 0]]);
        expect(result.hits[0]!.keywordRank).toBe(1);
        expect(result.vectorSearch).toBe('none');
        expect(result.warning).toBe(
          'vector search skipped, keyword search only: embedder local:hash-v1:384 failed (embedder local:hash-v1:384 is down (connection refused))',
        );
        const warned = h.logger.at('warn').find((l) => l.message === 'embedder failed; recall is keyword only');
        expect(warned?.fields).toMatchObject({ embedder: 'local:hash-v1:384', err: expect.objectContaining({ code: 'EMBEDDER_UNAVAILABLE' }) });
      });

      it('degrades the same way when the embedder answers vectors of the wrong dimension', async () => {
        const m = await h.remember('Integration tests need Redis running on port 6379.');
        await h.reopen({ embedder: new ShortVectorEmbedder(), embedderSpec: 'local' });
        const result = await h.recall('redis tests');
        expect(result.hits.map((x) => x.memory.id)).toEqual([m.id]);
        expect(result.vectorSearch).toBe('none');
        expect(result.warning).toContain('embedding: must have 384 dimensions');
      });

      it('still remembers; the re-embedder fills the vector once the embedder is back', async () => {
        const embedder = h.embedder as SwitchableEmbedder;
        embedder.down = true;
        const m = await h.remember('Configure the retryPolicy before calling the payments client.');
        expect(h.logger.at('warn').map((l) => l.message)).toContain('memory not embedded; the re-embedder will retry');
        expect(await h.parts.index.missing(embedder.id, 10)).toEqual([m]);

        // Still down: the pass fails (the loop logs and retries later), the memory stays missing.
        await expect(h.parts.reembedder.runOnce()).rejects.toMatchObject({ code: 'EMBEDDER_UNAVAILABLE' });
        embedder.down = false;
        expect(await h.parts.reembedder.runOnce()).toEqual({ embedded: 1, skipped: 0, ready: false });
        expect(await h.parts.index.missing(embedder.id, 10)).toEqual([]);
        expect((await h.recall('retry policy')).hits[0]).toMatchObject({ memory: { id: m.id }, vectorRank: 1 });
      });
    });

    describe('changing the embedder', () => {
      it('re-embeds in the background while recall keeps using the old space, then switches', async () => {
        const retry = await h.remember('Configure the retryPolicy before calling the payments client.');
        for (let i = 0; i < 4; i++) await h.remember(`Note ${i}: the dashboards live in grafana folder ${i}.`);
        const before = await h.recall('retry policy');
        expect(before.hits[0]).toMatchObject({ memory: { id: retry.id }, vectorRank: 1 });
        // The first space became ready on the service's first pass.
        expect(await h.parts.reembedder.runOnce()).toEqual({ embedded: 0, skipped: 0, ready: true });

        // A deploy with another embedder (another space: 256 dimensions).
        await h.reopen({ embedder: new SwitchableEmbedder(256), reembedBatchSize: 2 });
        expect(h.parts.spaces.ready).toBe(false);
        expect(h.parts.spaces.serving().id).toBe('local:hash-v1:384');
        expect((await h.recall('retry policy')).hits[0]).toMatchObject({ memory: { id: retry.id }, vectorRank: 1 });

        // Written meanwhile: into both spaces, so the old one still finds it.
        const backoff = await h.remember('Exponential backoffTimer settings live in config/retry.ts.');
        expect((await h.recall('backoff timer')).hits[0]).toMatchObject({ memory: { id: backoff.id } });
        expect((await h.recall('backoff timer')).hits[0]!.vectorRank).toBe(1);

        // Bounded batches; recall never loses the vector side in between.
        const passes: number[] = [];
        for (;;) {
          const pass = await h.parts.reembedder.runOnce();
          if (pass.ready) break;
          passes.push(pass.embedded);
          expect(h.parts.spaces.serving().id).toBe('local:hash-v1:384');
          expect((await h.recall('retry policy')).hits[0]).toMatchObject({ memory: { id: retry.id }, vectorRank: 1 });
        }
        expect(passes).toEqual([2, 2, 1]);
        expect(h.parts.spaces.serving().id).toBe('local:hash-v1:256');
        expect(h.logger.at('info').map((l) => l.message)).toContain('embedding space ready; recall uses it now');
        expect((await h.recall('retry policy')).hits[0]).toMatchObject({ memory: { id: retry.id }, vectorRank: 1 });

        // A restart on the new embedder serves from it at once.
        await h.reopen({ embedder: new SwitchableEmbedder(256) });
        expect(h.parts.spaces.ready).toBe(true);
        expect(h.parts.spaces.writers().map((e) => e.id)).toEqual(['local:hash-v1:256']);
      });

      it('skips a memory the new embedder refuses, so its space still becomes ready; recall finds it by keyword', async () => {
        const retry = await h.remember('Configure the retryPolicy before calling the payments client.');
        const refused = await h.remember('The legacy importer needs the REFUSED flag set before a run.');
        await h.remember('Integration tests need Redis running on port 6379.');
        expect(await h.parts.reembedder.runOnce()).toEqual({ embedded: 0, skipped: 0, ready: true });

        const embedder = new RefusingEmbedder({ dimensions: 256, refuse: 'REFUSED' });
        await h.reopen({ embedder });
        expect(await h.parts.reembedder.runOnce()).toEqual({ embedded: 2, skipped: 1, ready: false });
        // The batch, refused whole; then each text on its own.
        expect(embedder.requests.map((r) => r.length)).toEqual([3, 1, 1, 1]);
        const warned = h.logger.at('warn').filter((l) => l.message.startsWith('memory not embedded: the embedder refuses its text'));
        expect(warned.map((l) => l.fields)).toEqual([
          expect.objectContaining({ embedder: 'local:hash-v1:256', memoryId: refused.id, err: expect.objectContaining({ code: 'CONTEXT_TOO_LONG' }) }),
        ]);
        expect(await h.parts.index.missing(embedder.id, 10)).toEqual([]);

        // Not asked again: the space becomes ready and recall moves to it.
        expect(await h.parts.reembedder.runOnce()).toEqual({ embedded: 0, skipped: 0, ready: true });
        expect(embedder.requests).toHaveLength(4);
        expect(h.parts.spaces.serving().id).toBe('local:hash-v1:256');
        const legacy = await h.recall('legacy importer');
        expect(legacy.warning).toBe('');
        expect(legacy.hits.find((x) => x.memory.id === refused.id)).toMatchObject({ keywordRank: 1, vectorRank: 0 });
        expect((await h.recall('retry policy')).hits[0]).toMatchObject({ memory: { id: retry.id }, vectorRank: 1 });

        // Edited into text the embedder takes, it gets a vector in this space.
        await update({ id: refused.id, content: 'The legacy importer needs the strict flag set before a run.', tags: [], setTags: false, clearExpiry: false });
        expect((await h.recall('legacy importer')).hits.find((x) => x.memory.id === refused.id)!.vectorRank).toBeGreaterThan(0);
      });

      it('skips nothing when the embedder refuses every text for a reason not about the text (a bad key)', async () => {
        await h.remember('one');
        await h.remember('two');
        const embedder = new RefusingEmbedder({ dimensions: 256 });
        await h.reopen({ embedder });
        embedder.authFailed = true;
        await expect(h.parts.reembedder.runOnce()).rejects.toMatchObject({ code: 'PROVIDER_AUTH_FAILED' });
        // One try of the batch, one of its first text: then the pass gives up.
        expect(embedder.requests.map((r) => r.length)).toEqual([2, 1]);
        expect(await h.parts.index.missing(embedder.id, 10)).toHaveLength(2);
        embedder.authFailed = false;
        expect(await h.parts.reembedder.runOnce()).toEqual({ embedded: 2, skipped: 0, ready: false });
      });

      it('skips nothing when the embedder answers vectors of the wrong dimension (its fault, not the text\'s)', async () => {
        (h.embedder as SwitchableEmbedder).down = true;
        const m = await h.remember('Integration tests need Redis running on port 6379.');
        await h.reopen({ embedder: new ShortVectorEmbedder(), embedderSpec: 'local' });
        await expect(h.parts.reembedder.runOnce()).rejects.toMatchObject({ code: 'EMBEDDER_BAD_VECTOR' });
        expect(await h.parts.index.missing('local:hash-v1:384', 10)).toEqual([m]);
      });

      it('embeds the opening of a memory longer than the embedder takes', async () => {
        const embedder = new RefusingEmbedder({ dimensions: 384, maxChars: EMBEDDING_TEXT_MAX_CHARS });
        await h.reopen({ embedder });
        const opening = 'Configure the retryPolicy before calling the payments client. ';
        const long = (opening + 'Background notes follow. '.repeat(MemoryLimits.maxContentLength)).slice(0, MemoryLimits.maxContentLength).trim();
        const m = await h.remember(long, { tags: ['http', 'payments'] });
        expect(h.logger.at('warn')).toEqual([]);
        expect(await h.parts.index.missing(embedder.id, 10)).toEqual([]);
        const [text] = embedder.requests[0]!;
        expect(text!.length).toBeLessThanOrEqual(EMBEDDING_TEXT_MAX_CHARS);
        expect(text!.startsWith(opening)).toBe(true);
        expect(text!.endsWith('\nhttp payments')).toBe(true);
        expect(embedder.requests).toHaveLength(1);
        expect((await h.parts.index.missing(embedder.id, 10)).map((x) => x.id)).not.toContain(m.id);
      });

      it('runs passes on the clock: at once while there is work, then every interval', async () => {
        await h.reopen({ embedder: new SwitchableEmbedder(), reembedBatchSize: 1 });
        const embedder = h.embedder as SwitchableEmbedder;
        embedder.down = true;
        await h.remember('one');
        await h.remember('two');
        embedder.down = false;
        const reembedder = h.parts.reembedder;
        reembedder.start();
        const step = async (ms: number): Promise<void> => {
          h.clock.advance(ms);
          await reembedder.whenIdle();
        };
        await step(0);
        expect(await h.parts.index.missing(embedder.id, 10)).toHaveLength(1);
        await step(0);
        expect(await h.parts.index.missing(embedder.id, 10)).toHaveLength(0);
        await step(0);
        expect(h.parts.spaces.ready).toBe(true);
        // Nothing left: the next pass waits the interval (30 s).
        embedder.calls = 0;
        embedder.down = true;
        await h.remember('three');
        const callsAfterRemember = embedder.calls;
        // remember() moved the clock 1 s: 29 s since the last pass.
        await step(28_000);
        expect(embedder.calls).toBe(callsAfterRemember);
        embedder.down = false;
        await step(1_000);
        expect(embedder.calls).toBe(callsAfterRemember + 1);
        expect(await h.parts.index.missing(embedder.id, 10)).toHaveLength(0);
        await reembedder.stop();
      });
    });

    describe('update', () => {
      it('pins, edits (re-embedded), retags, sets and clears the expiry', async () => {
        const m = await h.remember('Configure the retryPolicy before calling the payments client.', { tags: ['http'] });
        const other = await h.remember('Integration tests need Redis running.');

        h.clock.advance(1_000);
        const pinned = await update({ id: m.id, pinned: true, tags: [], setTags: false, clearExpiry: false });
        expect(pinned).toMatchObject({ pinned: true, content: m.content, tags: ['http'] });
        expect(pinned.updatedAt.getTime()).toBe(h.clock.now());
        expect((await h.recall('redis')).hits.map((x) => x.memory.id)).toEqual([m.id, other.id]);

        const edited = await update({ id: m.id, content: 'Set the circuitBreaker threshold to five failures.', tags: [], setTags: true, clearExpiry: false });
        expect(edited).toMatchObject({ content: 'Set the circuitBreaker threshold to five failures.', tags: [], pinned: true });
        await update({ id: m.id, pinned: false, tags: [], setTags: false, clearExpiry: false });
        const hits = (await h.recall('circuit breaker')).hits;
        expect(hits[0]).toMatchObject({ memory: { id: m.id }, vectorRank: 1 });
        expect((await h.recall('retry policy')).hits.filter((x) => x.vectorRank > 0).map((x) => x.memory.id)).not.toContain(m.id);

        const expiry = new Date(h.clock.now() + DAY);
        expect((await update({ id: m.id, expiresAt: expiry, tags: [], setTags: false, clearExpiry: false })).expiresAt).toEqual(expiry);
        expect((await update({ id: m.id, tags: [], setTags: false, clearExpiry: true })).expiresAt).toBeUndefined();
      });

      it('answers NOT_FOUND for a memory that does not exist', async () => {
        const err = await errorOf(update({ id: '0b8e5c0e-1a8f-4c4b-9d7a-3e2f1c0b9a8d', pinned: true, tags: [], setTags: false, clearExpiry: false }));
        expect(err.code).toBe('MEMORY_NOT_FOUND');
      });
    });

    describe('learn', () => {
      const topic = 'dates.test.ts fails with a timezone offset';

      it('creates a reflex with its provenance, merges a duplicate and supersedes a contradiction', async () => {
        const created = await learn('In this repository the tests need TZ=UTC.', topic, 'task-1');
        expect(created.outcome).toBe('created');
        expect(created.memory).toMatchObject({
          kind: 'reflex',
          scope: 'project',
          topic,
          author: 'rule',
          confidence: 0.6,
          confirmations: 1,
          status: 'active',
          provenance: { taskId: 'task-1', commitSha: 'abc123', testEvidence: 'npm test: passed', failingTests: ['dates.test.ts'], confirmedBy: [] },
        });
        expect(created.memory.expiresAt).toEqual(new Date(h.clock.now() + REFLEX_POLICY_DEFAULTS.ttlDays * DAY));

        h.clock.advance(DAY);
        const merged = await learn('The tests need TZ=UTC in this repository', `  ${topic.toUpperCase()} `, 'task-2');
        expect(merged.outcome).toBe('merged');
        expect(merged.memory).toMatchObject({ id: created.memory.id, confirmations: 2, confidence: 0.7, provenance: { taskId: 'task-1', confirmedBy: ['task-2'] } });
        expect(merged.memory.confirmedAt).toEqual(now());
        // The same outcome told twice is not a second confirmation.
        expect((await learn('The tests need TZ=UTC in this repository', topic, 'task-2')).memory).toMatchObject({ confirmations: 2, confidence: 0.7 });

        h.clock.advance(DAY);
        const superseding = await learn('In this repository the tests need TZ=Europe/Berlin.', topic, 'task-3');
        expect(superseding.outcome).toBe('superseded');
        expect(superseding.supersededIds).toEqual([created.memory.id]);
        expect(superseding.memory.id).not.toBe(created.memory.id);

        // History is kept and listed on request; only the new lesson is recalled.
        const history = await list({ includeInactive: true });
        expect(history.map((m) => [m.id, m.status, m.supersededBy])).toEqual([
          [superseding.memory.id, 'active', undefined],
          [created.memory.id, 'superseded', superseding.memory.id],
        ]);
        expect((await list()).map((m) => m.id)).toEqual([superseding.memory.id]);
        expect((await h.recall('tests TZ')).hits.map((x) => x.memory.id)).toEqual([superseding.memory.id]);
      });

      it('keeps lessons on other topics and in other projects apart', async () => {
        const a = await learn('Run the linter before pushing.', 'eslint fails in CI', 'task-1');
        const b = await learn('In this repository the tests need TZ=UTC.', topic, 'task-2');
        expect([a.outcome, b.outcome]).toEqual(['created', 'created']);
        expect((await list()).map((m) => m.id).sort()).toEqual([a.memory.id, b.memory.id].sort());
      });

      it('serialises concurrent lessons on one topic: one reflex, the others merged', async () => {
        const results = await Promise.all(
          ['task-1', 'task-2', 'task-3'].map((task) => learn('In this repository the tests need TZ=UTC.', topic, task)),
        );
        expect(results.map((r) => r.outcome).sort()).toEqual(['created', 'merged', 'merged']);
        const active = await list({ kind: 'reflex' });
        expect(active).toHaveLength(1);
        expect(active[0]).toMatchObject({ confirmations: 3, confidence: 0.8 });
      });

      it('restores a superseded reflex when a person says so', async () => {
        const first = await learn('In this repository the tests need TZ=UTC.', topic, 'task-1');
        await learn('In this repository the tests need TZ=Europe/Berlin.', topic, 'task-2');
        const restored = await update({ id: first.memory.id, status: 'active', tags: [], setTags: false, clearExpiry: false });
        expect(restored).toMatchObject({ status: 'active', supersededBy: undefined });
      });
    });

    describe('list', () => {
      it('lists newest first, by kind and scope, live ones unless asked for all', async () => {
        const a = await h.remember('first', { kind: 'preference' });
        const b = await h.remember('second', { kind: 'reflex' });
        const c = await h.remember('third', { kind: 'preference', scope: 'user:alice' });
        const d = await h.remember('fourth', { expiresAt: new Date(h.clock.now() + 5_000) });
        await update({ id: b.id, status: 'retired', tags: [], setTags: false, clearExpiry: false });
        h.clock.advance(10_000);
        expect((await list()).map((m) => m.id)).toEqual([c.id, a.id]);
        expect((await list({ includeInactive: true })).map((m) => m.id)).toEqual([d.id, c.id, b.id, a.id]);
        expect((await list({ scope: 'user:alice' })).map((m) => m.id)).toEqual([c.id]);
        expect((await list({ kind: 'preference', limit: 1 })).map((m) => m.id)).toEqual([c.id]);
        expect(await h.memory.forget({ id: a.id, tenant: undefined })).toBe(true);
        expect(await h.memory.forget({ id: a.id, tenant: undefined })).toBe(false);
        expect((await list()).map((m) => m.id)).toEqual([c.id]);
      });

      it('keeps unicode content and tags intact', async () => {
        const memory = await h.remember('Écrire les messages en français — merci ✓', { tags: ['langue', 'ü'], kind: 'preference' });
        expect(await list()).toEqual([memory]);
        expect(contents(await h.recall('français'))).toEqual([memory.content]);
      });
    });
  });
}
