/**
 * A pooled connection that dies (PostgreSQL restarted, crashed, or an operator terminated it)
 * must not crash the process, whether it was idle (the pool drops it and says so through
 * `onIdleConnectionError`) or running a query (that query fails); the next query runs on a new
 * connection.
 */
import { createTestDatabase, type TestDatabase } from '@maestro/testing';
import { createDb, sql } from '../src/index.js';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase('db_idle_error');
});

afterAll(async () => {
  await database?.drop();
});

it('survives an idle connection terminated by the server, and queries on', async () => {
  const errors: Error[] = [];
  const db = createDb<unknown>({ url: database.url, maxConnections: 1, applicationName: 'db-idle-error-test', onIdleConnectionError: (err) => errors.push(err) });
  const other = createDb<unknown>({ url: database.url, maxConnections: 1, applicationName: 'db-idle-error-killer' });
  try {
    const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db);
    const pid = rows[0]!.pid;
    // The pool's one connection is idle now; the server ends it.
    await sql`select pg_terminate_backend(${pid})`.execute(other);
    for (let i = 0; i < 100 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(errors).toHaveLength(1);
    const after = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db);
    expect(after.rows[0]!.pid).not.toBe(pid);
  } finally {
    await db.destroy();
    await other.destroy();
  }
});

it('survives a connection terminated in the middle of a query: the query fails, the next one runs', async () => {
  const db = createDb<unknown>({ url: database.url, maxConnections: 1, applicationName: 'db-busy-error-test' });
  const other = createDb<unknown>({ url: database.url, maxConnections: 1, applicationName: 'db-busy-error-killer' });
  try {
    const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db);
    const pid = rows[0]!.pid;
    const slow = sql`select pg_sleep(30)`.execute(db);
    const failed = slow.then(
      () => undefined,
      (err: unknown) => err,
    );
    await new Promise((r) => setTimeout(r, 300));
    await sql`select pg_terminate_backend(${pid})`.execute(other);
    expect(await failed).toBeInstanceOf(Error);
    // The server's FATAL reply fails the query before the socket closes, so the connection can be
    // handed out once more and fail that query too (a transient error for its caller); never more.
    const results: string[] = [];
    for (let i = 0; i < 3 && results.at(-1) !== 'ok'; i++) {
      results.push(await sql`select 1 as ok`.execute(db).then(() => 'ok', () => 'failed'));
    }
    expect(results.at(-1)).toBe('ok');
    expect(results.length).toBeLessThanOrEqual(2);
  } finally {
    await db.destroy();
    await other.destroy();
  }
});
