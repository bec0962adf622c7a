/**
 * Orion assembled: the task service behind the OrchestratorService gRPC server, the activity
 * runner on the orchestrator work queue, and the consumers of subtask results and run events.
 * `main.ts` builds the dependencies from config; tests build them against real servers.
 */
import { OrchestratorServiceService } from '@maestro/contracts';
import type { Bus, WorkConsumer } from '@maestro/bus';
import { createGrpcServer, type Clock, type GrpcServer, type Logger } from '@maestro/runtime';
import type { ActivityOptions } from './activities/activity.js';
import { orchestratorActivities } from './activities/activity-registry.js';
import type { ActivityRunnerDeps } from './app/activity-runner.js';
import { TaskService } from './app/task-service.js';
import type { MemoryPort, RouterPort, WorkflowPort } from './domain/ports.js';
import type { RepoProbe } from './domain/repo-probe.js';
import type { TaskStore } from './store/task-store.js';
import { createOrchestratorHandlers } from './transport/grpc/orchestrator.handler.js';
import { subscribeActivityRequests } from './transport/nats/activity-requests.subscriber.js';
import { subscribeRunEvents } from './transport/nats/run-events.subscriber.js';
import { subscribeSubtaskResults } from './transport/nats/subtask-results.subscriber.js';
import { BusTaskEvents } from './transport/nats/task-events.publisher.js';
import { BusWorkPublisher } from './transport/nats/work.publisher.js';

/** What the orchestrator is made of. */
export interface OrchestratorDeps {
  logger: Logger;
  clock: Clock;
  store: TaskStore;
  repoProbe: RepoProbe;
  bus: Pick<Bus, 'consume' | 'publish' | 'publishEvent'>;
  router: RouterPort;
  memory: MemoryPort;
  workflow: WorkflowPort;
  /** `host:port` of the gRPC server; port 0 picks a free one. */
  grpcAddress: string;
  /** Activity requests handled at once. @default 4 */
  concurrency?: number;
  /** Deadline of workflow-engine calls. @default 10000 */
  workflowDeadlineMs?: number;
  activityOptions?: ActivityOptions;
}

/** A running orchestrator. */
export interface Orchestrator {
  readonly tasks: TaskService;
  readonly server: GrpcServer;
  /** Starts the gRPC server and the consumers; resolves to the bound port. */
  start(): Promise<number>;
  /** Stops taking calls and messages, finishing what is in flight. */
  stop(): Promise<void>;
}

/** Wires the orchestrator from its dependencies (nothing runs until `start`). */
export function createOrchestrator(deps: OrchestratorDeps): Orchestrator {
  const work = new BusWorkPublisher(deps.bus);
  const taskEvents = new BusTaskEvents(deps.bus, deps.clock);
  const tasks = new TaskService({
    store: deps.store,
    repoProbe: deps.repoProbe,
    workflow: deps.workflow,
    taskEvents,
    ...(deps.workflowDeadlineMs !== undefined ? { workflowDeadlineMs: deps.workflowDeadlineMs } : {}),
  });
  const runnerDeps: ActivityRunnerDeps = {
    activities: orchestratorActivities,
    store: deps.store,
    repoProbe: deps.repoProbe,
    router: deps.router,
    memory: deps.memory,
    work,
    clock: deps.clock,
    ...(deps.activityOptions ? { options: deps.activityOptions } : {}),
  };
  const server = createGrpcServer({
    address: deps.grpcAddress,
    logger: deps.logger,
    serviceNames: ['maestro.v1.OrchestratorService'],
  });
  server.add(OrchestratorServiceService, createOrchestratorHandlers(tasks));
  const consumers: WorkConsumer[] = [];

  return {
    tasks,
    server,
    async start() {
      consumers.push(
        await subscribeActivityRequests(deps.bus, runnerDeps, deps.logger, { concurrency: deps.concurrency ?? 4 }),
        await subscribeSubtaskResults(deps.bus, { store: deps.store, work, clock: deps.clock }),
        await subscribeRunEvents(deps.bus, { store: deps.store, taskEvents }),
      );
      return server.start();
    },
    async stop() {
      await server.shutdown();
      await Promise.all(consumers.splice(0).map((c) => c.stop()));
    },
  };
}
