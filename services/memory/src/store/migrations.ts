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
};

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
