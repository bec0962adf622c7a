/**
 * The memory service's gRPC server, assembled from its parts: `main.ts` gives it PostgreSQL,
 * tests give it a fresh database.
 */
import { MemoryServiceService } from '@maestro/contracts';
import { createGrpcServer } from '@maestro/runtime';
import type { GrpcServer, Logger } from '@maestro/runtime';
import type { MemoryStore } from './store/memory-store.js';
import { createMemoryServiceHandlers } from './transport/grpc/memory-service.handler.js';

/** The fully qualified gRPC service name, as health reports it. */
export const MEMORY_SERVICE_NAME = 'maestro.v1.MemoryService';

/** What {@link createMemoryServer} needs. */
export interface MemoryServerOptions {
  /** `host:port` to listen on; port 0 picks a free one. */
  address: string;
  logger: Logger;
  store: MemoryStore;
}

/** Creates the MemoryService server (with health); call `start()` to listen. */
export function createMemoryServer(options: MemoryServerOptions): GrpcServer {
  const server = createGrpcServer({ address: options.address, logger: options.logger, serviceNames: [MEMORY_SERVICE_NAME] });
  server.add(MemoryServiceService, createMemoryServiceHandlers({ store: options.store }));
  return server;
}
