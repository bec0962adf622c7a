/**
 * The database `maestro up` gives the services: created on its server when missing, so a fresh
 * machine needs no manual `createdb`.
 */
import pg from 'pg';

/** A database name `CREATE DATABASE` takes without quoting tricks. */
const DatabaseNamePattern = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** The database name of a PostgreSQL URL; throws naming the URL's problem. */
export function databaseNameOf(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`MAESTRO_DATABASE_URL: "${url}" is not a URL (expected postgres://user@host:port/database)`);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new Error(`MAESTRO_DATABASE_URL: expected a postgres:// URL, got ${parsed.protocol}//…`);
  }
  const name = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!DatabaseNamePattern.test(name)) {
    throw new Error(`MAESTRO_DATABASE_URL: the database name "${name}" must be letters, digits and "_" (starting with a letter or "_")`);
  }
  return name;
}

/** Creates the database of `url` on its server unless it exists; resolves to true when it created it. */
export async function ensureDatabase(url: string): Promise<boolean> {
  const name = databaseNameOf(url);
  const server = new URL(url);
  server.pathname = '/postgres';
  const client = new pg.Client({ connectionString: server.toString() });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`cannot reach PostgreSQL at ${server.host} (${err instanceof Error ? err.message : String(err)}); is it running? (\`maestro up\` starts it unless --skip-servers)`);
  }
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount !== null && found.rowCount > 0) return false;
    await client.query(`CREATE DATABASE "${name}"`);
    return true;
  } finally {
    await client.end();
  }
}
