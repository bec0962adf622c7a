/**
 * The lock-manager's gRPC server, assembled from its parts: `main.ts` gives it real Redis and
 * NATS, tests give it whatever they want to observe.
 */
import { LockServiceService } from '@maestro/contracts';
import { createGrpcServer } from '@maestro/runtime';
import type { GrpcServer, Logger, Registry, TransportSecurity } from '@maestro/runtime';
import { createLockManagerMetrics, instrumentLockStore } from './metrics.js';
import type { LockStore } from './store/lock-store.js';
import { createLockServiceHandlers } from './transport/grpc/lock-service.handler.js';
import type { LockEventPublisher } from './transport/nats/lock-event.publisher.js';

/** The fully qualified gRPC service name, as health reports it. */
export const LOCK_SERVICE_NAME = 'maestro.v1.LockService';

/** What {@link createLockManagerServer} needs. */
export interface LockManagerServerOptions {
  /** `host:port` to listen on; port 0 picks a free one. */
  address: string;
  logger: Logger;
  store: LockStore;
  events: LockEventPublisher;
  /** Where the lock and gRPC metrics go. @default processRegistry() */
  metrics?: Registry;
  /** gRPC transport security (mTLS with the caller check, or plaintext), from compileTransportSecurity. @default PLAINTEXT */
  security?: TransportSecurity;
  /** Plaintext health-only port for kubelet probes (MAESTRO_GRPC_HEALTH_PORT). @default 0 (none) */
  healthPort?: number;
}

/**
 * Creates the LockService server (with health); call `start()` to listen. Leases the store
 * expires are published as `maestro.events.lock.expired` from here.
 */
export function createLockManagerServer(options: LockManagerServerOptions): GrpcServer {
  const { events, logger } = options;
  const store = instrumentLockStore(options.store, createLockManagerMetrics(options.metrics));
  const server = createGrpcServer({ address: options.address, logger, serviceNames: [LOCK_SERVICE_NAME], metrics: options.metrics, security: options.security, healthPort: options.healthPort });
  server.add(LockServiceService, createLockServiceHandlers({ store, events }));
  store.onExpired((lease) => {
    logger.info('lock expired', { leaseId: lease.leaseId, owner: lease.owner, concerns: lease.concerns, token: lease.fencingToken });
    void events.expired(lease);
  });
  return server;
}
