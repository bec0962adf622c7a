/**
 * A fresh PostgreSQL database per test file, on the real server, dropped afterwards, so test
 * files never see each other's rows and can run in parallel.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';

/** A database created for one test file. */
export interface TestDatabase {
  /** Connection URL of the new database. */
  url: string;
  name: string;
  /** Drops the database, ending any connections still open to it. */
  drop(): Promise<void>;
}

/** The server tests use; `MAESTRO_TEST_PG_URL` points elsewhere when set. */
export function testServerUrl(): string {
  return process.env['MAESTRO_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Creates an empty database with a unique name. */
export async function createTestDatabase(prefix = 'maestro_test'): Promise<TestDatabase> {
  const admin = testServerUrl();
  const name = `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return {
    url: withDatabase(admin, name),
    name,
    drop: async () => {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      try {
        // pg's pool.end() resolves before the server has seen every socket close; forcing the
        // drop while they close makes a closing client emit an unhandled 'error'. Wait a little
        // for connections to go by themselves, then force.
        for (let i = 0; i < 50; i++) {
          const { rows } = await c.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
          if ((rows[0]?.n ?? 0) === 0) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
