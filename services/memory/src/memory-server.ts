/**
 * The memory service assembled from its parts: `openMemoryService` wires the stores, the
 * embedders and the re-embedder over one database; `createMemoryServer` puts the gRPC server in
 * front. `main.ts` gives them PostgreSQL and the configured embedder; tests give them a fresh
 * database (or PGlite) and whatever embedder they want to observe.
 */
import { MemoryServiceService } from '@maestro/contracts';
import type { Kysely } from '@maestro/db';
import type { Embedder } from '@maestro/llm';
import { createGrpcServer } from '@maestro/runtime';
import type { Clock, GrpcServer, Logger, Registry, TransportSecurity } from '@maestro/runtime';
import { EmbeddingSpaces } from './app/embedding-spaces.js';
import { createMemoryMetrics, instrumentRecall } from './metrics.js';
import type { EmbedderFactory } from './app/embedding-spaces.js';
import { MemoryService } from './app/memory-service.js';
import { Reembedder } from './app/reembedder.js';
import type { ReflexPolicy } from './domain/confidence.js';
import type { MemoryDatabase } from './store/memory-rows.js';
import { openVectorIndex } from './store/open-vector-index.js';
import type { MemoryStore } from './store/memory-store.js';
import { PostgresMemoryStore } from './store/postgres-memory-store.js';
import type { VectorIndex } from './store/vector-index.js';
import { createMemoryServiceHandlers } from './transport/grpc/memory-service.handler.js';

/** The fully qualified gRPC service name, as health reports it. */
export const MEMORY_SERVICE_NAME = 'maestro.v1.MemoryService';

/** What {@link openMemoryService} needs; unset options take their component's default. */
export interface MemoryPartsOptions {
  /** Migrated to the latest `memory` schema; owned by the caller. */
  db: Kysely<MemoryDatabase>;
  /** The configured embedder and the spec it came from (`local`, `openai:<model>` …). */
  embedder: Embedder;
  embedderSpec: string;
  /** Rebuilds the previous space's embedder from its spec while the new space fills. */
  embedderFor: EmbedderFactory;
  clock: Clock;
  logger: Logger;
  policy?: ReflexPolicy;
  minSimilarity?: number;
  embedTimeoutMs?: number;
  reembedIntervalMs?: number;
  reembedBatchSize?: number;
}

/** The assembled service; start the re-embedder, and stop it on shutdown. */
export interface MemoryParts {
  memory: MemoryService;
  store: MemoryStore;
  reembedder: Reembedder;
  index: VectorIndex;
  spaces: EmbeddingSpaces;
}

/** Wires the memory service over `db` (the vector path is read from the migrated schema). */
export async function openMemoryService(options: MemoryPartsOptions): Promise<MemoryParts> {
  const { db, clock, logger } = options;
  const index = await openVectorIndex(db);
  logger.info('vector search', { path: index.kind });
  const spaces = await EmbeddingSpaces.open({
    index,
    current: options.embedder,
    currentSpec: options.embedderSpec,
    embedderFor: options.embedderFor,
    clock,
    logger,
    embedTimeoutMs: options.embedTimeoutMs,
  });
  const store = new PostgresMemoryStore(db);
  const memory = new MemoryService({
    store,
    index,
    spaces,
    clock,
    policy: options.policy,
    minSimilarity: options.minSimilarity,
  });
  const reembedder = new Reembedder({
    spaces,
    index,
    clock,
    logger,
    intervalMs: options.reembedIntervalMs,
    batchSize: options.reembedBatchSize,
  });
  return { memory, store, reembedder, index, spaces };
}

/** What {@link createMemoryServer} needs. */
export interface MemoryServerOptions {
  /** `host:port` to listen on; port 0 picks a free one. */
  address: string;
  logger: Logger;
  memory: MemoryService;
  clock: Clock;
  /** Where recall and gRPC metrics go. @default processRegistry() */
  metrics?: Registry;
  /** gRPC transport security (mTLS with the caller check, or plaintext), from compileTransportSecurity. @default PLAINTEXT */
  security?: TransportSecurity;
  /** Plaintext health-only port for kubelet probes (MAESTRO_GRPC_HEALTH_PORT). @default 0 (none) */
  healthPort?: number;
}

/** Creates the MemoryService server (with health); call `start()` to listen. */
export function createMemoryServer(options: MemoryServerOptions): GrpcServer {
  const server = createGrpcServer({ address: options.address, logger: options.logger, serviceNames: [MEMORY_SERVICE_NAME], metrics: options.metrics, security: options.security, healthPort: options.healthPort });
  const memory = instrumentRecall(options.memory, createMemoryMetrics(options.metrics), options.clock);
  server.add(MemoryServiceService, createMemoryServiceHandlers({ memory, clock: options.clock }));
  return server;
}
