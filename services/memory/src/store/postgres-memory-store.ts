/**
 * Memories in PostgreSQL (schema `memory`), found by full-text search over a stored,
 * GIN-indexed tsvector of content and tags, ranked with `ts_rank_cd`. Keyword search tries
 * every word of the query (`websearch_to_tsquery`, what people type into a search box), then
 * any word of it. Works the same on PGlite (embedded PostgreSQL).
 */
import { sql } from 'kysely';
import type { Kysely, RawBuilder, Transaction } from 'kysely';
import { UnexpectedError } from '@maestro/runtime';
import { MemoryErrorCodes } from '../domain/memory-error-codes.js';
import { topicKey } from '../domain/lesson.js';
import type { LearnSpec, LessonPlan } from '../domain/lesson.js';
import { MemoryKinds, MemoryStatuses } from '../domain/memory.js';
import type { Memory, NewMemory } from '../domain/memory.js';
import type { ListSpec } from '../domain/memory-requests.js';
import type { KeywordHit } from '../domain/rank-fusion.js';
import type { RecallQueryParts } from '../domain/recall-query.js';
import type { LearnResult, MemoryChanges, MemoryStore, RecallFilter } from './memory-store.js';
import { MEMORY_SCHEMA } from './migrations.js';
import { memoryColumns, memoryColumnsSql, provenanceJson, toMemory } from './memory-rows.js';
import type { MemoryDatabase, MemoryRow } from './memory-rows.js';
import { recallFilterSql } from './recall-filter-sql.js';
import { guardStore } from './store-errors.js';

/** A {@link MemoryStore} over kysely and PostgreSQL. */
export class PostgresMemoryStore implements MemoryStore {
  private readonly db: Kysely<MemoryDatabase>;

  /** `db` is owned by the caller (the store never destroys it). */
  constructor(db: Kysely<MemoryDatabase>) {
    this.db = db.withSchema(MEMORY_SCHEMA);
  }

  remember(memory: NewMemory): Promise<Memory> {
    return guardStore('remember', () => insertMemory(this.db, memory));
  }

  get(id: string): Promise<Memory | undefined> {
    return guardStore('get', async () => {
      const row = await this.db.selectFrom('memories').select(memoryColumns).where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : toMemory(row);
    });
  }

  update(id: string, changes: MemoryChanges): Promise<Memory | undefined> {
    return guardStore('update', async () => {
      const row = await this.db
        .updateTable('memories')
        .set({
          updated_at: changes.updatedAt,
          ...(changes.content !== undefined ? { content: changes.content } : {}),
          ...(changes.pinned !== undefined ? { pinned: changes.pinned } : {}),
          ...(changes.status !== undefined ? { status: changes.status } : {}),
          ...(changes.supersededBy !== undefined ? { superseded_by: changes.supersededBy } : {}),
          ...(changes.tags !== undefined ? { tags: [...changes.tags] } : {}),
          ...(changes.expiresAt !== undefined ? { expires_at: changes.expiresAt } : {}),
        })
        .where('id', '=', id)
        .returning(memoryColumns)
        .executeTakeFirst();
      return row === undefined ? undefined : toMemory(row);
    });
  }

  forget(id: string, tenant?: string): Promise<boolean> {
    return guardStore('forget', async () => {
      let query = this.db.deleteFrom('memories').where('id', '=', id);
      if (tenant !== undefined) query = query.where('tenant', '=', tenant);
      const result = await query.executeTakeFirst();
      return result.numDeletedRows > 0n;
    });
  }

  list(spec: ListSpec, now: Date): Promise<Memory[]> {
    return guardStore('list', async () => {
      let query = this.db.selectFrom('memories').select(memoryColumns).where('project', '=', spec.project);
      if (spec.tenant !== undefined) query = query.where('tenant', '=', spec.tenant);
      if (spec.kind !== undefined) query = query.where('kind', '=', spec.kind);
      if (spec.scope !== undefined) query = query.where('scope', '=', spec.scope);
      if (!spec.includeInactive) {
        query = query
          .where('status', '=', MemoryStatuses.active)
          .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]));
      }
      const rows = await query.orderBy('created_at', 'desc').orderBy('seq', 'desc').limit(spec.limit).execute();
      return rows.map(toMemory);
    });
  }

  keywordSearch(query: RecallQueryParts, filter: RecallFilter, limit: number): Promise<KeywordHit[]> {
    return guardStore('keyword search', async () => {
      // Strict first: every word (web-search syntax, so "phrases", `or` and `-not` work).
      const strict = await this.ranked(filter, sql`websearch_to_tsquery('english', ${query.text})`, limit);
      if (strict.length > 0) return strict;
      // Then any word: agents ask in sentences, and a note that shares two of five words is
      // still the best we have. Excluded (-word) terms are left out rather than OR-ed in.
      return this.ranked(filter, anyLexemeQuery(query.positive), limit);
    });
  }

  pinned(filter: RecallFilter, limit: number): Promise<Memory[]> {
    return guardStore('pinned', () => this.live(filter, sql`AND m.pinned`, limit));
  }

  newest(filter: RecallFilter, limit: number): Promise<Memory[]> {
    return guardStore('newest', () => this.live(filter, sql``, limit));
  }

  learn(spec: LearnSpec, plan: (existing: readonly Memory[]) => LessonPlan): Promise<LearnResult> {
    return guardStore('learn', () =>
      this.db.transaction().execute(async (trx) => {
        const key = topicKey(spec.topic);
        // One lesson per tenant, project and topic at a time: without it two replicas could both
        // see no reflex on the topic and both create one.
        await sql`SELECT pg_advisory_xact_lock(hashtext(${`${spec.tenant}/${spec.project}`}), hashtext(${key}))`.execute(trx);
        const rows = await trx
          .selectFrom('memories')
          .select(memoryColumns)
          .where('tenant', '=', spec.tenant)
          .where('project', '=', spec.project)
          .where('kind', '=', MemoryKinds.reflex)
          .where('status', '=', MemoryStatuses.active)
          .where(sql`lower(topic)`, '=', key)
          .orderBy('created_at')
          .orderBy('seq')
          .forUpdate()
          .execute();
        const decided = plan(rows.map(toMemory));
        const memory = await applyLessonPlan(trx, decided);
        return { plan: decided, memory };
      }),
    );
  }

  /** The live memories of `filter` (plus `extra`), newest first. */
  private async live(filter: RecallFilter, extra: RawBuilder<unknown>, limit: number): Promise<Memory[]> {
    const result = await sql<MemoryRow>`
      SELECT ${memoryColumnsSql} FROM memory.memories m
      WHERE ${recallFilterSql(filter)} ${extra}
      ORDER BY m.created_at DESC, m.seq DESC
      LIMIT ${limit}
    `.execute(this.db);
    return result.rows.map(toMemory);
  }

  /** The live memories matching `tsquery`, best first (ties to the newer). */
  private async ranked(filter: RecallFilter, tsquery: RawBuilder<unknown>, limit: number): Promise<KeywordHit[]> {
    // ts_rank_cd rewards terms that occur close together (cover density), which suits short
    // notes better than plain frequency.
    const result = await sql<MemoryRow & { ts_rank: number }>`
      SELECT ${memoryColumnsSql}, ts_rank_cd(m.tsv, q.query)::float8 AS ts_rank
      FROM memory.memories m, (SELECT ${tsquery} AS query) AS q
      WHERE ${recallFilterSql(filter)} AND m.tsv @@ q.query
      ORDER BY ts_rank DESC, m.created_at DESC, m.seq DESC
      LIMIT ${limit}
    `.execute(this.db);
    return result.rows.map((row, i) => ({ memory: toMemory(row), rank: i + 1, tsRank: Number(row.ts_rank) }));
  }
}

/** Inserts one memory (in `db`, a connection or a transaction). */
async function insertMemory(db: Kysely<MemoryDatabase> | Transaction<MemoryDatabase>, memory: NewMemory): Promise<Memory> {
  const row = await db
    .insertInto('memories')
    .values({
      tenant: memory.tenant,
      project: memory.project,
      kind: memory.kind,
      content: memory.content,
      tags: [...memory.tags],
      scope: memory.scope,
      pinned: memory.pinned,
      status: memory.status,
      superseded_by: memory.supersededBy ?? null,
      confidence: memory.confidence,
      expires_at: memory.expiresAt ?? null,
      created_at: memory.createdAt,
      updated_at: memory.updatedAt,
      provenance: provenanceJson(memory.provenance),
      topic: memory.topic,
      confirmations: memory.confirmations,
      author: memory.author,
      confirmed_at: memory.confirmedAt ?? null,
    })
    .returning(memoryColumns)
    .executeTakeFirstOrThrow();
  return toMemory(row);
}

/** Does what Learn decided, inside its transaction; returns the reflex holding the lesson. */
async function applyLessonPlan(trx: Transaction<MemoryDatabase>, plan: LessonPlan): Promise<Memory> {
  let memory: Memory;
  let updatedAt: Date;
  if (plan.action === 'merge') {
    const c = plan.changes;
    updatedAt = c.updatedAt;
    const row = await trx
      .updateTable('memories')
      .set({
        confidence: c.confidence,
        confirmations: c.confirmations,
        confirmed_at: c.confirmedAt ?? null,
        expires_at: c.expiresAt ?? null,
        provenance: provenanceJson(c.provenance),
        tags: [...c.tags],
        updated_at: c.updatedAt,
      })
      .where('id', '=', plan.into.id)
      .returning(memoryColumns)
      .executeTakeFirst();
    if (row === undefined) throw new UnexpectedError(MemoryErrorCodes.storeFailed, `reflex ${plan.into.id} vanished while locked`);
    memory = toMemory(row);
  } else {
    memory = await insertMemory(trx, plan.memory);
    updatedAt = plan.memory.updatedAt;
  }
  if (plan.supersede.length > 0) {
    await trx
      .updateTable('memories')
      .set({ status: MemoryStatuses.superseded, superseded_by: memory.id, updated_at: updatedAt })
      .where('id', 'in', [...plan.supersede])
      .execute();
  }
  return memory;
}

/**
 * A tsquery matching any stemmed, non-stop word of `text` ('a' | 'b' | …); NULL (matches
 * nothing) when there is none. Lexemes are quoted, so punctuation in the text cannot break it.
 */
function anyLexemeQuery(text: string): RawBuilder<unknown> {
  return sql`(
    SELECT string_agg(quote_literal(lexeme), ' | ')::tsquery
    FROM unnest(tsvector_to_array(to_tsvector('english', ${text}))) AS lexeme
  )`;
}
