/**
 * What both PostgreSQL vector adapters share: the spaces table, writes, skip records, the
 * "missing" scan the re-embedder uses, and the search query. They differ only in how a vector is written and how
 * cosine similarity is computed (`PgvectorVectorIndex`, `ExactScanVectorIndex`).
 */
import { sql } from 'kysely';
import type { Kysely, RawBuilder } from 'kysely';
import { UnexpectedError } from '@maestro/runtime';
import { MemoryErrorCodes } from '../domain/memory-error-codes.js';
import { MemoryStatuses } from '../domain/memory.js';
import type { Memory } from '../domain/memory.js';
import type { VectorHit } from '../domain/rank-fusion.js';
import { checkVector, isZeroVector, SIMILARITY_DECIMALS, toStoredVector } from '../domain/vector.js';
import { MEMORY_SCHEMA } from './migrations.js';
import { memoryColumns, memoryColumnsSql, toMemory } from './memory-rows.js';
import type { EmbeddingSpacesTable, MemoryDatabase, MemoryRow } from './memory-rows.js';
import { exclusionFilterSql, recallFilterSql } from './recall-filter-sql.js';
import { guardStore } from './store-errors.js';
import type { EmbeddingSpace, SkippedEntry, VectorEntry, VectorIndex, VectorQuery } from './vector-index.js';

/** The shared half of the PostgreSQL vector adapters. */
export abstract class PostgresVectorIndex implements VectorIndex {
  abstract readonly kind: VectorIndex['kind'];
  protected readonly db: Kysely<MemoryDatabase>;
  /** Dimensions of the spaces seen so far (a space's dimension never changes). */
  private readonly dimensions = new Map<string, number>();

  /** `db` is owned by the caller. */
  constructor(db: Kysely<MemoryDatabase>) {
    this.db = db.withSchema(MEMORY_SCHEMA);
  }

  /** The SQL value of a (stored-precision) vector in this adapter's column type. */
  protected abstract vectorValue(vector: readonly number[]): RawBuilder<unknown>;
  /** Cosine similarity of `v.embedding` and `query` (a `vectorValue`), NULL when undefined. */
  protected abstract similarity(query: RawBuilder<unknown>): RawBuilder<unknown>;

  registerSpace(space: { embedderId: string; spec: string; dimensions: number }, now: Date): Promise<EmbeddingSpace> {
    return guardStore('register embedding space', async () => {
      await this.db
        .insertInto('embedding_spaces')
        .values({ embedder_id: space.embedderId, spec: space.spec, dimensions: space.dimensions, created_at: now, ready_at: null })
        .onConflict((oc) => oc.column('embedder_id').doNothing())
        .execute();
      const row = await this.db.selectFrom('embedding_spaces').selectAll().where('embedder_id', '=', space.embedderId).executeTakeFirstOrThrow();
      if (row.dimensions !== space.dimensions) {
        throw new UnexpectedError(
          MemoryErrorCodes.embeddingSpaceMismatch,
          `embedder ${space.embedderId} gives ${space.dimensions} dimensions, but its stored space has ${row.dimensions}`,
        );
      }
      return toSpace(row);
    });
  }

  spaces(): Promise<EmbeddingSpace[]> {
    return guardStore('list embedding spaces', async () => {
      const rows = await this.db.selectFrom('embedding_spaces').selectAll().orderBy('created_at', 'desc').execute();
      return rows.map(toSpace);
    });
  }

  markReady(embedderId: string, now: Date): Promise<void> {
    return guardStore('mark embedding space ready', async () => {
      await this.db.updateTable('embedding_spaces').set({ ready_at: now }).where('embedder_id', '=', embedderId).where('ready_at', 'is', null).execute();
    });
  }

  put(embedderId: string, entries: readonly VectorEntry[], now: Date): Promise<void> {
    return guardStore('store vectors', async () => {
      if (entries.length === 0) return;
      const dimensions = await this.dimensionsOf(embedderId);
      for (const entry of entries) checkVector(entry.vector, dimensions);
      const values = entries.map(
        (e) => sql`(${e.memoryId}::uuid, ${embedderId}, ${this.vectorValue(toStoredVector(e.vector))}, ${now}::timestamptz)`,
      );
      // A memory forgotten meanwhile has no row to point at: its vector is simply not kept.
      await sql`
        INSERT INTO memory.memory_vectors (memory_id, embedder_id, embedding, created_at)
        SELECT v.memory_id, v.embedder_id, v.embedding, v.created_at
        FROM (VALUES ${sql.join(values)}) AS v(memory_id, embedder_id, embedding, created_at)
        WHERE EXISTS (SELECT 1 FROM memory.memories m WHERE m.id = v.memory_id)
        ON CONFLICT (memory_id, embedder_id) DO UPDATE SET embedding = EXCLUDED.embedding, created_at = EXCLUDED.created_at
      `.execute(this.db);
    });
  }

  skip(embedderId: string, entries: readonly SkippedEntry[], now: Date): Promise<void> {
    return guardStore('record memories not embedded', async () => {
      if (entries.length === 0) return;
      const values = entries.map((e) => sql`(${e.memoryId}::uuid, ${embedderId}, ${e.reason}, ${now}::timestamptz)`);
      await sql`
        INSERT INTO memory.embedding_skips (memory_id, embedder_id, reason, created_at)
        SELECT s.memory_id, s.embedder_id, s.reason, s.created_at
        FROM (VALUES ${sql.join(values)}) AS s(memory_id, embedder_id, reason, created_at)
        WHERE EXISTS (SELECT 1 FROM memory.memories m WHERE m.id = s.memory_id)
        ON CONFLICT (memory_id, embedder_id) DO UPDATE SET reason = EXCLUDED.reason, created_at = EXCLUDED.created_at
      `.execute(this.db);
    });
  }

  removeAll(memoryId: string): Promise<void> {
    return guardStore('remove vectors', async () => {
      // New content may embed where the old did not: the skip records go with the vectors.
      await this.db.deleteFrom('memory_vectors').where('memory_id', '=', memoryId).execute();
      await this.db.deleteFrom('embedding_skips').where('memory_id', '=', memoryId).execute();
    });
  }

  missing(embedderId: string, limit: number): Promise<Memory[]> {
    return guardStore('find memories without vectors', async () => {
      const rows = await this.db
        .selectFrom('memories as m')
        .select(memoryColumns.map((c) => `m.${c}` as const))
        .where('m.status', '=', MemoryStatuses.active)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('memory_vectors as v')
                .select(sql`1`.as('one'))
                .whereRef('v.memory_id', '=', 'm.id')
                .where('v.embedder_id', '=', embedderId),
            ),
          ),
        )
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('embedding_skips as s')
                .select(sql`1`.as('one'))
                .whereRef('s.memory_id', '=', 'm.id')
                .where('s.embedder_id', '=', embedderId),
            ),
          ),
        )
        .orderBy('m.created_at')
        .orderBy('m.seq')
        .limit(limit)
        .execute();
      return rows.map((row) => toMemory(row as MemoryRow));
    });
  }

  search(query: VectorQuery): Promise<VectorHit[]> {
    return guardStore('vector search', async () => {
      const dimensions = await this.dimensionsOf(query.embedderId);
      checkVector(query.vector, dimensions);
      if (isZeroVector(query.vector)) return [];
      const similarity = this.similarity(this.vectorValue(toStoredVector(query.vector)));
      // Rounded in SQL so that the LIMIT cuts where the ranking does, the same on both paths.
      // OFFSET 0 keeps the similarity filter from being pushed down next to the space filter:
      // pgvector refuses to compare vectors of two spaces' different dimensions.
      const result = await sql<MemoryRow & { similarity: number }>`
        SELECT * FROM (
          SELECT ${memoryColumnsSql}, m.seq, round((${similarity})::numeric, ${SIMILARITY_DECIMALS})::float8 AS similarity
          FROM memory.memories m
          JOIN memory.memory_vectors v ON v.memory_id = m.id AND v.embedder_id = ${query.embedderId}
          WHERE ${recallFilterSql(query.filter)} ${exclusionFilterSql(query.exclusions)}
          OFFSET 0
        ) AS hits
        WHERE hits.similarity IS NOT NULL AND hits.similarity <> 'NaN'::float8 AND hits.similarity >= ${query.minSimilarity}
        ORDER BY hits.similarity DESC, hits.created_at DESC, hits.seq DESC
        LIMIT ${query.limit}
      `.execute(this.db);
      return result.rows.map((row, i) => ({ memory: toMemory(row), rank: i + 1, similarity: Number(row.similarity) }));
    });
  }

  /** A registered space's dimension; an unregistered space is a bug of the caller. */
  private async dimensionsOf(embedderId: string): Promise<number> {
    const known = this.dimensions.get(embedderId);
    if (known !== undefined) return known;
    const row = await this.db.selectFrom('embedding_spaces').select('dimensions').where('embedder_id', '=', embedderId).executeTakeFirst();
    if (row === undefined) throw new UnexpectedError(MemoryErrorCodes.embeddingSpaceUnknown, `no embedding space ${embedderId} was registered`);
    this.dimensions.set(embedderId, row.dimensions);
    return row.dimensions;
  }
}

function toSpace(row: EmbeddingSpacesTable): EmbeddingSpace {
  return {
    embedderId: row.embedder_id,
    spec: row.spec,
    dimensions: row.dimensions,
    createdAt: row.created_at instanceof Date ? row.created_at : new Date(row.created_at),
    readyAt: row.ready_at === null ? undefined : row.ready_at instanceof Date ? row.ready_at : new Date(row.ready_at),
  };
}
