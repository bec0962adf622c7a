/**
 * CodeMaestro's lock-manager as a {@link LockTarget}: each client has its own gRPC channel to a
 * replica (clients are spread over the replicas) and locks `resource:<name>` exclusively with
 * one Acquire that waits on the server (no polling by the client), then one Release.
 */
import { randomUUID } from 'node:crypto';
import { LockServiceClient } from '@maestro/contracts';
import { createGrpcClient } from '@maestro/runtime';
import type { LockClient, LockTarget, ReleaseLock } from './lock-target.js';

/** How long an Acquire may wait on the server: far longer than any phase, so nobody gives up. */
const WAIT_MS = 120_000;
const TTL_MS = 10_000;

/** The lock-manager replicas at `addresses`, locking with a `ttlMs` of 10 s. */
export function codemaestroTarget(addresses: readonly string[]): LockTarget {
  return {
    name: 'CodeMaestro lock-manager',
    settings: `gRPC Acquire wait_ms ${WAIT_MS}, ttl_ms ${TTL_MS}; ${addresses.length} replica(s)`,
    async connect(clientIndex: number): Promise<LockClient> {
      const address = addresses[clientIndex % addresses.length]!;
      const grpc = createGrpcClient(LockServiceClient, address, { deadlineMs: WAIT_MS + 10_000 });
      const owner = `bench-${clientIndex}-${randomUUID().slice(0, 8)}`;
      return {
        giveUps: 0,
        async acquire(resource: string): Promise<ReleaseLock> {
          const lease = await grpc.call.acquire({ owner, concerns: [`resource:${resource}`], sharedConcerns: [], ttlMs: TTL_MS, waitMs: WAIT_MS });
          return async () => {
            await grpc.call.release({ leaseId: lease.leaseId, owner });
          };
        },
        async close(): Promise<void> {
          grpc.close();
        },
      };
    },
  };
}
