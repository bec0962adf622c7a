/**
 * An embedded PostgreSQL (PGlite, WebAssembly) with the pgvector extension, served over the
 * PostgreSQL wire protocol on 127.0.0.1 so tests reach it with the same `pg` client and kysely
 * dialect as the real server. Runs as its own ESM process: PGlite loads its files with dynamic
 * imports, which Jest's CommonJS sandbox refuses. Prints `listening <port>` when ready; stops on
 * SIGTERM or when its parent closes stdin.
 */
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

const db = await PGlite.create({ extensions: { vector } });
const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0 });
await server.start();
const address = server.getServerConn?.() ?? '';
const port = typeof address === 'string' ? address.split(':').pop() : '';
process.stdout.write(`listening ${port}\n`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await server.stop();
  await db.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.stdin.on('end', () => void stop());
process.stdin.resume();
