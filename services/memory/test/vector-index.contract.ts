/**
 * The one contract every `VectorIndex` adapter passes (pgvector on PGlite, the exact scan on
 * PostgreSQL): spaces per embedder with their readiness, writes checked against the space's
 * dimension (INVALID_ARGUMENT naming `embedding`), cosine search ranked best first within the
 * recall filter (project, scopes, kind, live) and the query's exclusions, the "missing" scan
 * the re-embedder uses (and the skip records that take a memory out of it), and vectors that go
 * with their memory.
 */
import { LocalHashEmbedder } from '@maestro/llm';
import { MaestroError, UserError } from '@maestro/runtime';
import type { Memory, NewMemory } from '../src/domain/memory.js';
import type { MemoryStore, RecallFilter } from '../src/store/memory-store.js';
import type { VectorIndex } from '../src/store/vector-index.js';

/** What a contract run needs from an adapter: the index and a store over the same data, both empty. */
export interface VectorIndexHarness {
  index: VectorIndex;
  store: MemoryStore;
  close(): Promise<void>;
}

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const at = (s: number): Date => new Date(T0 + s * 1_000);

/** Runs the VectorIndex contract against the adapter `factory` makes, one fresh harness per test. */
export function defineVectorIndexContract(name: string, factory: () => Promise<VectorIndexHarness>): void {
  describe(`VectorIndex contract: ${name}`, () => {
    let h: VectorIndexHarness;
    const embedder = new LocalHashEmbedder({ dimensions: 64 });
    const space = { embedderId: embedder.id, spec: 'local:64', dimensions: 64 };
    let seconds = 0;

    beforeEach(async () => {
      h = await factory();
      seconds = 0;
    });
    afterEach(async () => {
      await h.close();
    });

    const memory = (content: string, patch: Partial<NewMemory> = {}): Promise<Memory> => {
      seconds++;
      return h.store.remember({
        tenant: 'default',
        project: 'p',
        kind: 'project',
        content,
        tags: [],
        scope: 'project',
        pinned: false,
        status: 'active',
        supersededBy: undefined,
        confidence: 1,
        expiresAt: undefined,
        createdAt: at(seconds),
        updatedAt: at(seconds),
        provenance: undefined,
        topic: '',
        confirmations: 0,
        author: 'person',
        confirmedAt: undefined,
        ...patch,
      });
    };
    const embedAll = async (...memories: Memory[]): Promise<void> => {
      const vectors = await embedder.embed(memories.map((m) => m.content));
      await h.index.put(space.embedderId, memories.map((m, i) => ({ memoryId: m.id, vector: vectors[i]! })), at(100));
    };
    const filter = (patch: Partial<RecallFilter> = {}): RecallFilter => ({ tenant: undefined, project: 'p', scopes: ['project'], kind: undefined, now: at(1_000), ...patch });
    const search = async (text: string, patch: { filter?: Partial<RecallFilter>; exclusions?: string; minSimilarity?: number; limit?: number } = {}) => {
      const [vector] = await embedder.embed([text]);
      return h.index.search({
        embedderId: space.embedderId,
        vector: vector!,
        filter: filter(patch.filter),
        exclusions: patch.exclusions ?? '',
        minSimilarity: patch.minSimilarity ?? -1,
        limit: patch.limit ?? 10,
      });
    };
    const errorOf = async (promise: Promise<unknown>): Promise<MaestroError> => {
      const err: unknown = await promise.then(
        () => undefined,
        (e: unknown) => e,
      );
      if (!(err instanceof MaestroError)) throw new Error(`expected a maestro error, got ${String(err)}`);
      return err;
    };

    it('registers a space once, lists spaces newest first and marks one ready once', async () => {
      const first = await h.index.registerSpace(space, at(1));
      expect(first).toEqual({ ...space, createdAt: at(1), readyAt: undefined });
      expect(await h.index.registerSpace(space, at(2))).toEqual(first);
      await h.index.registerSpace({ embedderId: 'local:hash-v1:32', spec: 'local:32', dimensions: 32 }, at(3));
      expect((await h.index.spaces()).map((s) => s.embedderId)).toEqual(['local:hash-v1:32', space.embedderId]);
      await h.index.markReady(space.embedderId, at(4));
      await h.index.markReady(space.embedderId, at(5));
      expect((await h.index.spaces()).find((s) => s.embedderId === space.embedderId)?.readyAt).toEqual(at(4));
    });

    it('refuses a space whose embedder id comes back with another dimension', async () => {
      await h.index.registerSpace(space, at(1));
      const err = await errorOf(h.index.registerSpace({ ...space, dimensions: 65 }, at(2)));
      expect(err.code).toBe('EMBEDDING_SPACE_MISMATCH');
    });

    it('ranks by cosine similarity, best first, with 1-based ranks', async () => {
      await h.index.registerSpace(space, at(0));
      const retry = await memory('Configure the retryPolicy before calling the client.');
      const redis = await memory('Integration tests need Redis running before jest starts.');
      const leases = await memory('The lock manager keeps leases in Redis.');
      await embedAll(retry, redis, leases);
      const hits = await search('redis lease');
      expect(hits.map((x) => x.memory.id)).toEqual([leases.id, redis.id, retry.id]);
      expect(hits.map((x) => x.rank)).toEqual([1, 2, 3]);
      expect(hits[0]!.similarity).toBeGreaterThan(hits[1]!.similarity);
      expect(hits[0]!.memory).toEqual(leases);
      // Rounded to 4 decimals, so both paths rank on the same numbers.
      for (const hit of hits) expect(Math.round(hit.similarity * 10_000) / 10_000).toBe(hit.similarity);
    });

    it('keeps only hits at or above the minimum similarity, and at most the limit', async () => {
      await h.index.registerSpace(space, at(0));
      const a = await memory('Integration tests need Redis running before jest starts.');
      const b = await memory('The lock manager keeps leases in Redis.');
      const c = await memory('Commit messages in the imperative mood.');
      await embedAll(a, b, c);
      const all = await search('redis');
      const threshold = all[1]!.similarity;
      expect((await search('redis', { minSimilarity: threshold })).map((x) => x.memory.id)).toEqual(all.slice(0, 2).map((x) => x.memory.id));
      expect(await search('redis', { limit: 1 })).toHaveLength(1);
    });

    it('searches only live memories of the project, scopes and kind', async () => {
      await h.index.registerSpace(space, at(0));
      const mine = await memory('Redis runs on port 6379.');
      const other = await memory('Redis runs on port 6379.', { project: 'q' });
      const alice = await memory('Redis runs on port 6379.', { scope: 'user:alice' });
      const pref = await memory('Redis runs on port 6379.', { kind: 'preference' });
      const retired = await memory('Redis runs on port 6379.', { status: 'retired' });
      const expired = await memory('Redis runs on port 6379.', { expiresAt: at(500) });
      await embedAll(mine, other, alice, pref, retired, expired);
      const ids = async (patch: Partial<RecallFilter>) => (await search('redis port', { filter: patch })).map((x) => x.memory.id).sort();
      expect(await ids({})).toEqual([mine.id, pref.id].sort());
      expect(await ids({ scopes: ['project', 'user:alice'] })).toEqual([mine.id, alice.id, pref.id].sort());
      expect(await ids({ kind: 'preference' })).toEqual([pref.id]);
      expect(await ids({ now: at(400) })).toEqual([mine.id, pref.id, expired.id].sort());
    });

    it("searches one tenant's memories when the filter names one, every tenant's when not", async () => {
      await h.index.registerSpace(space, at(0));
      const mine = await memory('Redis runs on port 6379.', { tenant: 'acme' });
      const theirs = await memory('Redis runs on port 6379.', { tenant: 'globex' });
      await embedAll(mine, theirs);
      const ids = async (patch: Partial<RecallFilter>) => (await search('redis port', { filter: patch })).map((x) => x.memory.id).sort();
      expect(await ids({ tenant: 'acme' })).toEqual([mine.id]);
      expect(await ids({ tenant: 'globex' })).toEqual([theirs.id]);
      expect(await ids({ tenant: 'nobody' })).toEqual([]);
      expect(await ids({})).toEqual([mine.id, theirs.id].sort());
    });

    it('never returns a memory holding an excluded word', async () => {
      await h.index.registerSpace(space, at(0));
      const leases = await memory('The lock manager keeps leases in Redis.');
      const redis = await memory('Integration tests need Redis running before jest starts.');
      await embedAll(leases, redis);
      expect((await search('redis leases', { exclusions: '-leases' })).map((x) => x.memory.id)).toEqual([redis.id]);
      // An exclusion of stop words only excludes nothing.
      expect(await search('redis leases', { exclusions: '-the' })).toHaveLength(2);
    });

    it('refuses a vector of the wrong dimension, on write and on search, naming embedding', async () => {
      await h.index.registerSpace(space, at(0));
      const m = await memory('Redis runs on port 6379.');
      const write = await errorOf(h.index.put(space.embedderId, [{ memoryId: m.id, vector: new Array<number>(63).fill(0.1) }], at(1)));
      expect(write).toBeInstanceOf(UserError);
      expect(write.code).toBe('INVALID_ARGUMENT');
      expect(write.field).toBe('embedding');
      expect(write.message).toBe('embedding: must have 64 dimensions (the embedding space\'s), got 63');
      const read = await errorOf(
        h.index.search({ embedderId: space.embedderId, vector: [1, 0], filter: filter(), exclusions: '', minSimilarity: 0, limit: 5 }),
      );
      expect(read.field).toBe('embedding');
      expect(await h.index.missing(space.embedderId, 10)).toEqual([m]);
    });

    it('finds nothing for the all-zero vector (similar to nothing)', async () => {
      await h.index.registerSpace(space, at(0));
      const m = await memory('Redis runs on port 6379.');
      await embedAll(m);
      const hits = await h.index.search({
        embedderId: space.embedderId,
        vector: new Array<number>(64).fill(0),
        filter: filter(),
        exclusions: '',
        minSimilarity: -1,
        limit: 5,
      });
      expect(hits).toEqual([]);
    });

    it('lists active memories missing a vector in one space, oldest first, and forgets vectors with their memory', async () => {
      await h.index.registerSpace(space, at(0));
      await h.index.registerSpace({ embedderId: 'local:hash-v1:32', spec: 'local:32', dimensions: 32 }, at(0));
      const a = await memory('first');
      const b = await memory('second');
      const c = await memory('third');
      await memory('retired', { status: 'retired' });
      await embedAll(b);
      expect((await h.index.missing(space.embedderId, 10)).map((m) => m.id)).toEqual([a.id, c.id]);
      expect((await h.index.missing(space.embedderId, 1)).map((m) => m.id)).toEqual([a.id]);
      expect(await h.index.missing('local:hash-v1:32', 10)).toHaveLength(3);

      await h.index.removeAll(b.id);
      expect((await h.index.missing(space.embedderId, 10)).map((m) => m.id)).toEqual([a.id, b.id, c.id]);
      await embedAll(a);
      expect(await h.store.forget(a.id)).toBe(true);
      expect(await search('first')).toEqual([]);
      // A vector for a memory forgotten meanwhile is dropped, not an error.
      await h.index.put(space.embedderId, [{ memoryId: a.id, vector: (await embedder.embed(['first']))[0]! }], at(2));
      expect(await search('first')).toEqual([]);
    });

    it('leaves skipped memories out of the missing scan of their space only, until their content changes', async () => {
      await h.index.registerSpace(space, at(0));
      await h.index.registerSpace({ embedderId: 'local:hash-v1:32', spec: 'local:32', dimensions: 32 }, at(0));
      const a = await memory('first');
      const b = await memory('second');
      await h.index.skip(space.embedderId, [{ memoryId: a.id, reason: 'CONTEXT_TOO_LONG: too long' }], at(1));
      // Recording it again replaces the reason; an empty list is a no-op.
      await h.index.skip(space.embedderId, [{ memoryId: a.id, reason: 'CONTEXT_TOO_LONG: still too long' }], at(2));
      await h.index.skip(space.embedderId, [], at(2));
      expect((await h.index.missing(space.embedderId, 10)).map((m) => m.id)).toEqual([b.id]);
      expect((await h.index.missing('local:hash-v1:32', 10)).map((m) => m.id)).toEqual([a.id, b.id]);

      // Edited content may embed: the skip record goes with the vectors.
      await h.index.removeAll(a.id);
      expect((await h.index.missing(space.embedderId, 10)).map((m) => m.id)).toEqual([a.id, b.id]);

      // A memory forgotten meanwhile is ignored, not an error.
      expect(await h.store.forget(b.id)).toBe(true);
      await h.index.skip(space.embedderId, [{ memoryId: b.id, reason: 'CONTEXT_TOO_LONG: too long' }], at(3));
      expect((await h.index.missing(space.embedderId, 10)).map((m) => m.id)).toEqual([a.id]);
    });

    it('searches one space while another, of another dimension, holds vectors of the same memories', async () => {
      const small = new LocalHashEmbedder({ dimensions: 32 });
      await h.index.registerSpace(space, at(0));
      await h.index.registerSpace({ embedderId: small.id, spec: 'local:32', dimensions: 32 }, at(0));
      const a = await memory('Redis runs on port 6379.');
      const b = await memory('The web app is built with Vite.');
      await embedAll(a, b);
      const smallVectors = await small.embed([a.content, b.content]);
      await h.index.put(small.id, [{ memoryId: a.id, vector: smallVectors[0]! }, { memoryId: b.id, vector: smallVectors[1]! }], at(1));
      expect((await search('redis port', { minSimilarity: 0.3 })).map((x) => x.memory.id)).toEqual([a.id]);
      const [query] = await small.embed(['redis port']);
      const hits = await h.index.search({ embedderId: small.id, vector: query!, filter: filter(), exclusions: '', minSimilarity: 0.3, limit: 5 });
      expect(hits.map((x) => x.memory.id)).toEqual([a.id]);
    });

    it('replaces a vector written twice for the same memory and space', async () => {
      await h.index.registerSpace(space, at(0));
      const m = await memory('Redis runs on port 6379.');
      const [redis, jest] = await embedder.embed(['redis port', 'jest snapshot']);
      await h.index.put(space.embedderId, [{ memoryId: m.id, vector: jest! }], at(1));
      await h.index.put(space.embedderId, [{ memoryId: m.id, vector: redis! }], at(2));
      const [hit] = await search('redis port');
      expect(hit!.similarity).toBeCloseTo(1, 3);
    });
  });
}
