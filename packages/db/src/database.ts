/**
 * The PostgreSQL connection factory: a Kysely instance over a `pg` pool, typed by the
 * owning service's table interfaces.
 */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';

/** Options for {@link createDb}. */
export interface DbOptions {
  /** `postgres://user@host:port/database`. */
  url: string;
  /** Pool size. @default 10 */
  maxConnections?: number;
  /** Application name shown in `pg_stat_activity`. */
  applicationName?: string;
}

// int8 (bigint counts, sequence values) comes back as a number: every value we store fits in 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));

/** Creates a Kysely instance for one service's tables. Destroy it on shutdown. */
export function createDb<Database>(options: DbOptions): Kysely<Database> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    application_name: options.applicationName,
  });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
