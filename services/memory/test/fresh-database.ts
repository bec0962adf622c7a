/**
 * A fresh PostgreSQL database per test file: created with `CREATE DATABASE` from the
 * `postgres` database and dropped afterwards, so test runs never see each other's rows.
 */
import { randomUUID } from 'node:crypto';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';

/** The server's maintenance database (trust auth on 127.0.0.1, as on this machine and in CI). */
const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** A database made for one test file. */
export interface FreshDatabase {
  /** Connection URL of the new database. */
  url: string;
  name: string;
  /** Drops the database (closing any connection still open to it). */
  drop(): Promise<void>;
}

/** Opens a kysely instance on `url` (one small pool). */
export function openDb<DB>(url: string): Kysely<DB> {
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 4 }) }) });
}

/** Creates an empty database with a unique name. */
export async function createFreshDatabase(label: string): Promise<FreshDatabase> {
  const name = `${label}_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = openDb<unknown>(ADMIN_URL);
  try {
    await sql`CREATE DATABASE ${sql.id(name)}`.execute(admin);
  } finally {
    await admin.destroy();
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const dropper = openDb<unknown>(ADMIN_URL);
      try {
        await sql`DROP DATABASE IF EXISTS ${sql.id(name)} WITH (FORCE)`.execute(dropper);
      } finally {
        await dropper.destroy();
      }
    },
  };
}
