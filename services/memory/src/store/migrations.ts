/**
 * The `memory` schema's migrations, run by `dist/migrate.js` before the service starts (an
 * init container in Kubernetes, `make migrate` locally). Append new ones; never edit a
 * migration that has shipped.
 */
import { migrateToLatest, sql } from '@maestro/db';
import type { Kysely, Migration } from '@maestro/db';
import type { Logger } from '@maestro/runtime';

/** The schema this service owns; no other service reads it. */
export const MEMORY_SCHEMA = 'memory';

/** Every migration of the `memory` schema, by name (applied in name order). */
export const memoryMigrations: Record<string, Migration> = {
  '0001_init': {
    async up(db: Kysely<unknown>): Promise<void> {
      await sql`CREATE SCHEMA IF NOT EXISTS memory`.execute(db);
      // A generated column must use immutable functions only, and array_to_string is declared
      // STABLE (it goes through element output functions). For text[] it cannot vary, so this
      // wrapper states what is true and lets tsv be a stored generated column.
      await sql`
        CREATE FUNCTION memory.tags_text(tags text[]) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$ SELECT array_to_string(tags, ' ') $$
      `.execute(db);
      await sql`
        CREATE TABLE memory.memories (
          id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
          project text NOT NULL,
          kind text NOT NULL CHECK (kind IN ('preference', 'project', 'reflex')),
          content text NOT NULL,
          tags text[] NOT NULL DEFAULT '{}',
          tsv tsvector GENERATED ALWAYS AS (
            to_tsvector('english', content || ' ' || memory.tags_text(tags))
          ) STORED,
          created_at timestamptz NOT NULL DEFAULT now()
        )
      `.execute(db);
      await sql`CREATE INDEX memories_tsv_idx ON memory.memories USING GIN (tsv)`.execute(db);
      // Recall's fallback and List read a project's newest memories, optionally of one kind.
      await sql`CREATE INDEX memories_project_created_idx ON memory.memories (project, created_at DESC)`.execute(db);
      await sql`CREATE INDEX memories_project_kind_created_idx ON memory.memories (project, kind, created_at DESC)`.execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await sql`DROP TABLE IF EXISTS memory.memories`.execute(db);
      await sql`DROP FUNCTION IF EXISTS memory.tags_text(text[])`.execute(db);
    },
  },
  '0002_recall_and_lessons': {
    // Issue 8: scopes, pins, statuses (retire, supersede), confidence and expiry, a reflex's
    // topic and provenance; and vectors per embedder, in pgvector when the extension can be
    // created here and in float8[] (exact scan) otherwise. Which one this database got is read
    // back from the column's type at start (`openVectorIndex`).
    async up(db: Kysely<unknown>): Promise<void> {
      await sql`
        ALTER TABLE memory.memories
          ADD COLUMN scope text NOT NULL DEFAULT 'project',
          ADD COLUMN pinned boolean NOT NULL DEFAULT false,
          ADD COLUMN status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired', 'superseded')),
          ADD COLUMN superseded_by uuid REFERENCES memory.memories (id) ON DELETE SET NULL,
          ADD COLUMN confidence double precision NOT NULL DEFAULT 1 CHECK (confidence >= 0 AND confidence <= 1),
          ADD COLUMN expires_at timestamptz,
          ADD COLUMN updated_at timestamptz,
          ADD COLUMN provenance jsonb,
          ADD COLUMN topic text NOT NULL DEFAULT '',
          ADD COLUMN confirmations integer NOT NULL DEFAULT 0,
          ADD COLUMN author text NOT NULL DEFAULT 'person',
          ADD COLUMN confirmed_at timestamptz,
          ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY
      `.execute(db);
      await sql`UPDATE memory.memories SET updated_at = created_at`.execute(db);
      await sql`ALTER TABLE memory.memories ALTER COLUMN updated_at SET NOT NULL, ALTER COLUMN updated_at SET DEFAULT now()`.execute(db);
      // Recall, pinned and List filter a project's live memories by scope and status.
      await sql`CREATE INDEX memories_project_status_scope_idx ON memory.memories (project, status, scope)`.execute(db);
      // Learn finds a project's active reflexes on one topic (compared in lower case).
      await sql`
        CREATE INDEX memories_reflex_topic_idx ON memory.memories (project, lower(topic))
        WHERE kind = 'reflex' AND status = 'active'
      `.execute(db);

      await sql`
        CREATE TABLE memory.embedding_spaces (
          embedder_id text PRIMARY KEY,
          spec text NOT NULL,
          dimensions integer NOT NULL CHECK (dimensions > 0),
          created_at timestamptz NOT NULL,
          ready_at timestamptz
        )
      `.execute(db);
      const pgvector = await tryCreateVectorExtension(db);
      const embeddingType = pgvector ? sql.raw('vector') : sql.raw('double precision[]');
      // No dimension on the column: each space has its own, checked on write. No ANN index:
      // search is exact on both paths, so they agree (see the README).
      await sql`
        CREATE TABLE memory.memory_vectors (
          memory_id uuid NOT NULL REFERENCES memory.memories (id) ON DELETE CASCADE,
          embedder_id text NOT NULL REFERENCES memory.embedding_spaces (embedder_id) ON DELETE CASCADE,
          embedding ${embeddingType} NOT NULL,
          created_at timestamptz NOT NULL,
          PRIMARY KEY (memory_id, embedder_id)
        )
      `.execute(db);
      await sql`CREATE INDEX memory_vectors_space_idx ON memory.memory_vectors (embedder_id, memory_id)`.execute(db);
      // The exact scan's cosine, in SQL so that only the best hits leave the database (a
      // 384-dimension vector is ~8 KB as text; shipping every one to the service per recall
      // would cost far more than the arithmetic). NULL for a zero vector, similar to nothing.
      await sql`
        CREATE FUNCTION memory.cosine_similarity(a double precision[], b double precision[]) RETURNS double precision
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        AS $$
          SELECT CASE WHEN sum(x * x) = 0 OR sum(y * y) = 0 THEN NULL
                      ELSE sum(x * y) / sqrt(sum(x * x) * sum(y * y)) END
          FROM unnest(a, b) AS t(x, y)
        $$
      `.execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await sql`DROP FUNCTION IF EXISTS memory.cosine_similarity(double precision[], double precision[])`.execute(db);
      await sql`DROP TABLE IF EXISTS memory.memory_vectors`.execute(db);
      await sql`DROP TABLE IF EXISTS memory.embedding_spaces`.execute(db);
      await sql`DROP INDEX IF EXISTS memory.memories_reflex_topic_idx`.execute(db);
      await sql`DROP INDEX IF EXISTS memory.memories_project_status_scope_idx`.execute(db);
      await sql`
        ALTER TABLE memory.memories
          DROP COLUMN scope, DROP COLUMN pinned, DROP COLUMN status, DROP COLUMN superseded_by,
          DROP COLUMN confidence, DROP COLUMN expires_at, DROP COLUMN updated_at, DROP COLUMN provenance,
          DROP COLUMN topic, DROP COLUMN confirmations, DROP COLUMN author, DROP COLUMN confirmed_at, DROP COLUMN seq
      `.execute(db);
    },
  },
  '0003_embedding_skips': {
    // A memory whose text an embedder refuses for good (too long for its input, refused
    // content) is recorded per space, so the re-embedder stops asking and the space can become
    // ready; recall still finds it by keyword. Editing its content clears the record.
    async up(db: Kysely<unknown>): Promise<void> {
      await sql`
        CREATE TABLE memory.embedding_skips (
          memory_id uuid NOT NULL REFERENCES memory.memories (id) ON DELETE CASCADE,
          embedder_id text NOT NULL REFERENCES memory.embedding_spaces (embedder_id) ON DELETE CASCADE,
          reason text NOT NULL,
          created_at timestamptz NOT NULL,
          PRIMARY KEY (memory_id, embedder_id)
        )
      `.execute(db);
      await sql`CREATE INDEX embedding_skips_space_idx ON memory.embedding_skips (embedder_id, memory_id)`.execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await sql`DROP TABLE IF EXISTS memory.embedding_skips`.execute(db);
    },
  },
  '0004_tenants': {
    // Every memory belongs to a tenant: `default` for the memories that existed, as for what an
    // internal caller creates. Lists and recalls of one tenant filter on it first.
    async up(db: Kysely<unknown>): Promise<void> {
      await sql`ALTER TABLE memory.memories ADD COLUMN tenant text NOT NULL DEFAULT 'default'`.execute(db);
      await sql`CREATE INDEX memories_tenant_project_created_idx ON memory.memories (tenant, project, created_at DESC)`.execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await sql`DROP INDEX IF EXISTS memory.memories_tenant_project_created_idx`.execute(db);
      await sql`ALTER TABLE memory.memories DROP COLUMN tenant`.execute(db);
    },
  },
};

/**
 * Creates the `vector` extension when the server has it and lets us; false otherwise (as on
 * Debian 12's PostgreSQL, which has no pgvector package). Inside the migration's transaction,
 * so a refused CREATE EXTENSION is rolled back to a savepoint instead of aborting it.
 */
async function tryCreateVectorExtension(db: Kysely<unknown>): Promise<boolean> {
  const available = await sql`SELECT 1 FROM pg_available_extensions WHERE name = 'vector'`.execute(db);
  if (available.rows.length === 0) return false;
  await sql`SAVEPOINT memory_vector_extension`.execute(db);
  try {
    await sql`CREATE EXTENSION IF NOT EXISTS vector`.execute(db);
    await sql`RELEASE SAVEPOINT memory_vector_extension`.execute(db);
    return true;
  } catch {
    // Not allowed (no superuser, not a trusted extension): the exact scan serves instead.
    await sql`ROLLBACK TO SAVEPOINT memory_vector_extension`.execute(db);
    return false;
  }
}

/**
 * Applies every pending migration of the `memory` schema; returns the names applied. Takes any
 * Kysely instance (a typed one from the service, or an untyped one in `migrate.ts`).
 */
// Kysely<any> because Kysely<MemoryDatabase> is not assignable to Kysely<unknown> (its type
// parameter is invariant), and migrations never use the table types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function migrateMemorySchema(db: Kysely<any>, logger: Logger): Promise<string[]> {
  return migrateToLatest(db, { schema: MEMORY_SCHEMA, migrations: memoryMigrations, logger });
}
