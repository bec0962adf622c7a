/**
 * One memory service over a real database for a test: PostgreSQL on 127.0.0.1 (a fresh database
 * per file, exact-scan path) or PGlite with pgvector (pgvector path). Each test gets empty
 * tables, a manual clock and the local embedder behind a switch; `reopen` restarts the service
 * on the same data, as a deploy with another embedder would.
 */
import { createDb, sql } from '@maestro/db';
import type { Kysely } from '@maestro/db';
import type { Embedder } from '@maestro/llm';
import { createEmbedder } from '@maestro/llm';
import { ManualClock } from '@maestro/runtime';
import { createTestDatabase } from '@maestro/testing';
import type { MemoryService } from '../../src/app/memory-service.js';
import type { ReflexPolicy } from '../../src/domain/confidence.js';
import { validateRecall, validateRemember } from '../../src/domain/memory-requests.js';
import type { Memory, MemoryKind } from '../../src/domain/memory.js';
import type { RecallResult } from '../../src/app/recall-memories.js';
import { openMemoryService } from '../../src/memory-server.js';
import type { MemoryParts } from '../../src/memory-server.js';
import type { MemoryDatabase } from '../../src/store/memory-rows.js';
import { migrateMemorySchema } from '../../src/store/migrations.js';
import { startPgliteDatabase } from './pglite-database.js';
import { RecordingLogger } from './recording-logger.js';
import { SwitchableEmbedder } from './test-embedders.js';

/** Where the data lives. */
export type BackendKind = 'postgres' | 'pglite';

/** A database for one test file. */
export interface Backend {
  readonly kind: BackendKind;
  readonly db: Kysely<MemoryDatabase>;
  close(): Promise<void>;
}

/** How long a test file lets PGlite start (initdb runs in WebAssembly: slow on a busy machine). */
export const PGLITE_START_TIMEOUT_MS = 180_000;

/** Opens and migrates a database of `kind`. */
export async function openBackend(kind: BackendKind): Promise<Backend> {
  if (kind === 'postgres') {
    const database = await createTestDatabase('memory_test');
    const db = createDb<MemoryDatabase>({ url: database.url, maxConnections: 4 });
    await migrateMemorySchema(db, new RecordingLogger());
    return {
      kind,
      db,
      close: async () => {
        await db.destroy();
        await database.drop();
      },
    };
  }
  const server = await startPgliteDatabase(PGLITE_START_TIMEOUT_MS - 10_000);
  // PGlite is a single session: one connection, so a transaction is never interleaved.
  const db = createDb<MemoryDatabase>({ url: server.url, maxConnections: 1 });
  await migrateMemorySchema(db, new RecordingLogger());
  return {
    kind,
    db,
    close: async () => {
      await db.destroy();
      await server.stop();
    },
  };
}

/** 2030-01-01T00:00:00Z: tests' clocks start here. */
export const T0 = Date.parse('2030-01-01T00:00:00.000Z');

/** Options of {@link createHarness}. */
export interface HarnessOptions {
  embedder?: Embedder;
  embedderSpec?: string;
  policy?: ReflexPolicy;
  minSimilarity?: number;
  reembedBatchSize?: number;
  /** Keep the rows already there (an upgrade test) instead of emptying the tables. */
  keepData?: boolean;
}

/** A memory service over a backend, with handles on its clock, logger and embedder. */
export class MemoryHarness {
  readonly clock = new ManualClock(T0);
  readonly logger = new RecordingLogger();
  parts!: MemoryParts;
  embedder!: Embedder;

  private constructor(readonly backend: Backend) {}

  /** Empties the tables (unless `keepData`) and opens a service over them. */
  static async create(backend: Backend, options: HarnessOptions = {}): Promise<MemoryHarness> {
    if (options.keepData !== true) {
      await sql`TRUNCATE memory.memory_vectors, memory.embedding_spaces, memory.memories CASCADE`.execute(backend.db);
    }
    const harness = new MemoryHarness(backend);
    await harness.reopen(options);
    return harness;
  }

  get memory(): MemoryService {
    return this.parts.memory;
  }

  /** (Re)starts the service on the same data, with `options.embedder` (default: a fresh switchable local one). */
  async reopen(options: HarnessOptions = {}): Promise<MemoryParts> {
    await this.parts?.reembedder.stop();
    this.embedder = options.embedder ?? new SwitchableEmbedder();
    this.parts = await openMemoryService({
      db: this.backend.db,
      embedder: this.embedder,
      embedderSpec: options.embedderSpec ?? specOf(this.embedder),
      embedderFor: (spec) => createEmbedder(spec, {}),
      clock: this.clock,
      logger: this.logger,
      ...(options.policy !== undefined ? { policy: options.policy } : {}),
      ...(options.minSimilarity !== undefined ? { minSimilarity: options.minSimilarity } : {}),
      ...(options.reembedBatchSize !== undefined ? { reembedBatchSize: options.reembedBatchSize } : {}),
    });
    return this.parts;
  }

  /** Remembers a memory (after a tick of the clock, so creation times differ). */
  async remember(
    content: string,
    options: { tenant?: string; project?: string; kind?: MemoryKind; tags?: string[]; scope?: string; pinned?: boolean; expiresAt?: Date } = {},
  ): Promise<Memory> {
    this.clock.advance(1_000);
    const spec = validateRemember(
      {
        tenant: options.tenant ?? '',
        project: options.project ?? 'acme/web',
        kind: options.kind ?? 'project',
        content,
        tags: options.tags ?? [],
        scope: options.scope ?? '',
        pinned: options.pinned ?? false,
        expiresAt: options.expiresAt,
      },
      new Date(this.clock.now()),
    );
    return this.memory.remember(spec, this.logger);
  }

  /** Recalls with the given query. */
  recall(query: string, options: { tenant?: string; project?: string; limit?: number; kind?: string; scopes?: string[] } = {}): Promise<RecallResult> {
    const spec = validateRecall({
      tenant: options.tenant ?? '',
      project: options.project ?? 'acme/web',
      query,
      limit: options.limit ?? 0,
      kind: options.kind ?? '',
      scopes: options.scopes ?? [],
    });
    return this.memory.recall(spec, this.logger);
  }

  /** Stops the re-embedder. */
  async close(): Promise<void> {
    await this.parts?.reembedder.stop();
  }
}

/** The spec that builds the local embedder of this id (`local:hash-v1:256` → `local:256`). */
function specOf(embedder: Embedder): string {
  const match = /^local:hash-v1:(\d+)$/.exec(embedder.id);
  return match ? `local:${match[1]}` : embedder.id;
}

/** The contents of a recall's hits, in order. */
export function contents(result: RecallResult): string[] {
  return result.hits.map((h) => h.memory.content);
}
