/**
 * An embedded PostgreSQL with pgvector for the pgvector path's tests: PGlite in a child process
 * (`pglite-vector-server.mjs`) served on a free 127.0.0.1 port, reached with the same `pg`
 * pool and kysely dialect as the real server. PGlite is one session: open at most one
 * connection to it (`maxConnections: 1`).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** A running PGlite server. */
export interface PgliteDatabase {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`. */
  url: string;
  /** Stops the server process (this one only). */
  stop(): Promise<void>;
}

/** Starts a PGlite server with the `vector` extension available; resolves once it listens. */
export async function startPgliteDatabase(timeoutMs = 60_000): Promise<PgliteDatabase> {
  const script = join(__dirname, 'pglite-vector-server.mjs');
  const child = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`PGlite server did not start within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const match = /listening (\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`PGlite server exited (${String(code)}) before listening:\n${output}`));
    });
  });
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(kill);
      }
      // Nothing of the child may keep the test worker alive.
      child.stdin.destroy();
      child.stdout.destroy();
      child.stderr.destroy();
    },
  };
}
