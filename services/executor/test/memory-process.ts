/**
 * A real memory service for executor tests: `node services/memory/dist/main.js` as a
 * `ServiceProcess` of `@maestro/testing`, on a fresh PostgreSQL database migrated by the
 * service's own `dist/migrate.js`, with a gRPC client to write the memories a test needs. The
 * executor recalls from it exactly as in production; a test stops or pauses (SIGSTOP) it to make
 * memory unreachable or slow.
 */
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MemoryServiceClient } from '@maestro/contracts';
import { createGrpcClient, type GrpcClient } from '@maestro/runtime';
import { createTestDatabase, ServiceProcess, type TestDatabase } from '@maestro/testing';
import { WORKSPACE_ROOT } from './executor-process.js';

const MEMORY_DIST = join(WORKSPACE_ROOT, 'services', 'memory', 'dist');

/** Builds the memory service (and what it references) so `dist/` matches the sources. */
export function buildMemory(): void {
  execFileSync('pnpm', ['exec', 'tsc', '-b', 'services/memory'], { cwd: WORKSPACE_ROOT, stdio: 'pipe' });
}

/** A running memory service on a database of its own. */
export class MemoryProcess {
  private constructor(
    readonly service: ServiceProcess,
    private readonly database: TestDatabase,
    /** A client for the test's own calls (remember, list). */
    readonly client: GrpcClient<MemoryServiceClient>,
  ) {}

  /** Migrates a fresh database, starts the service on a free port and connects a client. */
  static async start(): Promise<MemoryProcess> {
    const database = await createTestDatabase('executor_memory');
    const env = { MAESTRO_DATABASE_URL: database.url, MAESTRO_LOG_LEVEL: 'info' };
    try {
      await promisify(execFile)(process.execPath, [join(MEMORY_DIST, 'migrate.js')], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } });
      const service = await ServiceProcess.start({ main: join(MEMORY_DIST, 'main.js'), env: { ...env, MAESTRO_MEMORY_GRPC_ADDR: '127.0.0.1:0' } });
      return new MemoryProcess(service, database, createGrpcClient(MemoryServiceClient, service.address, { deadlineMs: 10_000 }));
    } catch (err) {
      await database.drop();
      throw err;
    }
  }

  /** `127.0.0.1:<port>` of its gRPC server. */
  get address(): string {
    return this.service.address;
  }

  /** Stops the process (resuming it first if paused), closes the client and drops the database. */
  async stop(): Promise<void> {
    this.client.close();
    this.service.signal('SIGCONT');
    await this.service.stop();
    await this.database.drop();
  }
}
