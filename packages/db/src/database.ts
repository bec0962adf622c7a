/**
 * The PostgreSQL connection factory: a Kysely instance over a `pg` pool, typed by the
 * owning service's table interfaces.
 */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Logger } from '@maestro/runtime';

/** Options for {@link createDb}. */
export interface DbOptions {
  /** `postgres://user@host:port/database`. */
  url: string;
  /** Pool size. @default 10 */
  maxConnections?: number;
  /** Application name shown in `pg_stat_activity`. */
  applicationName?: string;
  /**
   * Told when an idle pooled connection fails (the server restarted or crashed, the network
   * dropped it). The pool has already dropped that connection and opens a new one for the next
   * query, so this is for logging only.
   * @default a warning on `logger` when one is given, else ignored
   */
  onIdleConnectionError?: (err: Error) => void;
  /** Where the default {@link onIdleConnectionError} warns. */
  logger?: Pick<Logger, 'warn'>;
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
  // pg re-throws a connection's failure as an uncaught exception unless someone listens: a
  // PostgreSQL restart would crash every service (the fault suite's postgres-restart scenario
  // found it). An idle connection's failure reaches the pool's 'error'; a checked-out one's
  // reaches the connection itself, whose query fails with the same error for its caller (and a
  // connection that failed is never reused), so there it needs no more than a listener.
  const onIdleError =
    options.onIdleConnectionError ?? ((err: Error) => options.logger?.warn('an idle database connection failed; the pool opens a new one for the next query', { err }));
  pool.on('error', (err) => onIdleError(err));
  pool.on('connect', (client) => client.on('error', () => undefined));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
