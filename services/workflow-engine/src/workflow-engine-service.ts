/**
 * The workflow-engine assembled from its parts: PostgreSQL store, NATS publisher, engine,
 * activity-result consumer, the run-event feed for WatchRun, and the gRPC server. `main.ts`
 * gives it the real database and bus; tests can give it theirs. Start and stop order live here,
 * once.
 */
import type { Bus, LiveSubscription, WorkConsumer } from '@maestro/bus';
import { RunEventSchema, Subjects, WorkflowServiceService } from '@maestro/contracts';
import type { Kysely } from '@maestro/db';
import { createGrpcServer, processRegistry, type Clock, type GrpcServer, type Logger, type Registry, type TransportSecurity } from '@maestro/runtime';
import { createWorkflowEngine, type WorkflowEngine } from './engine.js';
import { createWorkflowEngineMetrics } from './metrics.js';
import { PostgresRunStore } from './store/postgres-run-store.js';
import type { WorkflowDatabase } from './store/workflow-database.js';
import { createWorkflowHandlers } from './transport/grpc/workflow.handler.js';
import { startActivityResultSubscriber } from './transport/nats/activity-result.subscriber.js';
import { NatsRunEventsPublisher } from './transport/nats/run-events.publisher.js';

/** The fully qualified gRPC service name, as health reports it. */
export const WORKFLOW_SERVICE_NAME = 'maestro.v1.WorkflowService';

/** What {@link createWorkflowEngineService} needs. */
export interface WorkflowEngineServiceOptions {
  /** `host:port` to listen on; port 0 picks a free one. */
  address: string;
  logger: Logger;
  db: Kysely<WorkflowDatabase>;
  bus: Pick<Bus, 'publish' | 'consume' | 'subscribe'>;
  /** Activity results applied at once. @default 16 (the subscriber's DEFAULT_RESULT_CONCURRENCY) */
  resultConcurrency?: number;
  /** Steps committed together at most (group commit; 1: off). @default 64 (the store's) */
  stepBatch?: number;
  /** @default 5000 (the engine's default) */
  watchPollMs?: number;
  /** @default 5000 (the engine's default) */
  sweepMs?: number;
  /** @default systemClock */
  clock?: Clock;
  /** Where the engine's and gRPC metrics go (`metrics.ts`). @default processRegistry() */
  metrics?: Registry;
  /** gRPC transport security (mTLS with the caller check, or plaintext), from compileTransportSecurity. @default PLAINTEXT */
  security?: TransportSecurity;
  /** Plaintext health-only port for kubelet probes (MAESTRO_GRPC_HEALTH_PORT). @default 0 (none) */
  healthPort?: number;
}

/** A wired workflow-engine: start it once, stop it once. */
export interface WorkflowEngineService {
  engine: WorkflowEngine;
  server: GrpcServer;
  /** Default definitions → resume → timeout sweep → activity results → run events → gRPC; resolves with the port. */
  start(): Promise<number>;
  /** The reverse: WatchRun streams, gRPC, run events, activity results, then the engine's sweep and effects. */
  stop(): Promise<void>;
}

/** Wires the service; nothing runs until `start()`. */
export function createWorkflowEngineService(options: WorkflowEngineServiceOptions): WorkflowEngineService {
  const { logger, bus } = options;
  const registry = options.metrics ?? processRegistry();
  const store = new PostgresRunStore(options.db, { logger, ...(options.stepBatch !== undefined ? { stepBatch: options.stepBatch } : {}) });
  // The gauges read the engine on scrape, so it is looked up then, not now.
  const observer = createWorkflowEngineMetrics({ store, pendingEffects: () => engine.pendingEffects(), logger }, registry);
  const engine: WorkflowEngine = createWorkflowEngine({
    store,
    publisher: new NatsRunEventsPublisher(bus),
    logger,
    observer,
    ...(options.clock !== undefined ? { clock: options.clock } : {}),
    ...(options.watchPollMs !== undefined ? { watchPollMs: options.watchPollMs } : {}),
    ...(options.sweepMs !== undefined ? { sweepMs: options.sweepMs } : {}),
  });
  const server = createGrpcServer({ address: options.address, logger, serviceNames: [WORKFLOW_SERVICE_NAME], metrics: registry, security: options.security, healthPort: options.healthPort });
  server.add(WorkflowServiceService, createWorkflowHandlers(engine));

  let results: WorkConsumer | undefined;
  const subscriptions: LiveSubscription[] = [];

  return {
    engine,
    server,
    async start() {
      await engine.ensureDefaultDefinitions();
      await engine.resume();
      engine.startTimeoutSweep();
      results = await startActivityResultSubscriber(bus, engine, { logger, ...(options.resultConcurrency !== undefined ? { concurrency: options.resultConcurrency } : {}) });
      // Transitions made by other replicas reach this replica's WatchRun streams through the events.
      for (const subject of [Subjects.runTransitioned, Subjects.runFinished]) {
        subscriptions.push(bus.subscribe(subject, RunEventSchema, (event) => engine.notifyRunChanged(event.runId)));
      }
      return server.start();
    },
    async stop() {
      // Open WatchRun streams end first, so the server need not wait for them to drain.
      engine.endWatches();
      await server.shutdown();
      for (const subscription of subscriptions.splice(0)) subscription.unsubscribe();
      await results?.stop();
      await engine.stop();
    },
  };
}
