/**
 * Orion assembled: the task and agent-step services behind the OrchestratorService gRPC server,
 * the activity runner on the orchestrator work queue, the consumers of subtask results, run
 * events, agent steps and escalations, and the background starter of runs the engine could not start at once. `main.ts` builds the
 * dependencies from config; tests build them against real servers.
 */
import { OrchestratorServiceService } from '@maestro/contracts';
import type { Bus, WorkConsumer } from '@maestro/bus';
import type { CommandPolicy, Sandbox } from '@maestro/agent';
import { createGrpcServer, REPO_ROOTS_VARIABLE, type Clock, type GrpcServer, type Logger, type TenantRepoRoots, type TransportSecurity } from '@maestro/runtime';
import type { ActivityOptions } from './activities/activity.js';
import { orchestratorActivities } from './activities/activity-registry.js';
import type { ActivityRunnerDeps } from './app/activity-runner.js';
import { AgentStepService } from './app/agent-steps.js';
import type { EscalationDeps } from './app/handle-escalation.js';
import { ReflexLearner, type ReflexLearningOptions } from './app/learn-reflex.js';
import type { EscalationLimits } from './domain/escalations.js';
import { RunStarter } from './app/run-starter.js';
import { StepRetention, StepRetentionDefaults } from './app/step-retention.js';
import { TaskService } from './app/task-service.js';
import type { MemoryPort, RouterPort, WorkflowPort } from './domain/ports.js';
import type { RepoProbe } from './domain/repo-probe.js';
import type { AgentStepStore } from './store/agent-step-store.js';
import type { TaskStore } from './store/task-store.js';
import type { TaskBudget } from './domain/task.js';
import { createOrchestratorHandlers } from './transport/grpc/orchestrator.handler.js';
import { subscribeActivityRequests } from './transport/nats/activity-requests.subscriber.js';
import { BusEscalationEvents } from './transport/nats/escalation-events.publisher.js';
import { subscribeEscalations } from './transport/nats/escalations.subscriber.js';
import { subscribeRunEvents } from './transport/nats/run-events.subscriber.js';
import { subscribeSubtaskResults } from './transport/nats/subtask-results.subscriber.js';
import { subscribeWorkSteps } from './transport/nats/work-steps.subscriber.js';
import { BusTaskEvents } from './transport/nats/task-events.publisher.js';
import { BusWorkPublisher } from './transport/nats/work.publisher.js';
import type { BranchDelivery } from './domain/delivery.js';
import type { PreflightProbe } from './domain/preflight/preflight-probe.js';
import { FsPreflightProbe } from './store/fs-preflight-probe.js';
import { GitBranchDelivery } from './store/git-branch-delivery.js';
import { TaskTracing } from './app/task-tracing.js';
import { InMemoryTaskTraceStore } from './store/in-memory-task-trace-store.js';
import type { TaskTraceStore } from './store/task-trace-store.js';
import { withTaskTraces } from './transport/nats/task-traced-bus.js';

/** What the orchestrator is made of. */
export interface OrchestratorDeps {
  logger: Logger;
  clock: Clock;
  store: TaskStore;
  /** The agents' steps (`maestro.events.work.step`), recorded and listed. */
  steps: AgentStepStore;
  repoProbe: RepoProbe;
  bus: Pick<Bus, 'consume' | 'publish' | 'publishEvent'>;
  /**
   * Where each task's trace context is kept, so its background work joins the task's one trace.
   * @default new InMemoryTaskTraceStore()
   */
  taskTraces?: TaskTraceStore;
  router: RouterPort;
  memory: MemoryPort;
  workflow: WorkflowPort;
  /** `host:port` of the gRPC server; port 0 picks a free one. */
  grpcAddress: string;
  /** gRPC transport security (mTLS with the caller check, or plaintext), from compileTransportSecurity. @default PLAINTEXT */
  security?: TransportSecurity;
  /** Plaintext health-only port for kubelet probes (MAESTRO_GRPC_HEALTH_PORT). @default 0 (none) */
  healthPort?: number;
  /** Activity requests handled at once. @default 4 */
  concurrency?: number;
  /** Deadline of workflow-engine calls. @default 10000 */
  workflowDeadlineMs?: number;
  /**
   * On `stop`, how long activities in flight may run on; then they are aborted (model calls
   * cancelled) and their requests handed back to the queue for another replica. @default 20000
   */
  drainTimeoutMs?: number;
  /** Pauses between background StartRun attempts. @default DEFAULT_START_RETRY_DELAYS_MS */
  startRetryDelaysMs?: readonly number[];
  /** How long SubmitTask waits for StartRun before returning the task pending. @default DEFAULT_INLINE_START_MS */
  inlineStartMs?: number;
  activityOptions?: ActivityOptions;
  /**
   * Reads task branches and delivers approved work in the user's repository (the review, and
   * GetTask's view of a failed or cancelled task's branch). @default new GitBranchDelivery()
   */
  branchDelivery?: BranchDelivery;
  /** How preflight looks at and repairs the machine. @default new FsPreflightProbe() */
  preflightProbe?: PreflightProbe;
  /**
   * Escalations of failed subtasks put to the strategic model, per subtask and per task; past
   * them the subtask fails. @default DefaultEscalationLimits (2 per subtask, 6 per task)
   */
  escalationLimits?: EscalationLimits;
  /**
   * The budget a task gets when its submission leaves it out (0 = no limit).
   * @default { usd: 0, tokens: 0 }
   */
  defaultBudget?: TaskBudget;
  /**
   * The policy a submitted (or detected) test command must pass.
   * @default defaultCommandPolicy
   */
  commandPolicy?: CommandPolicy;
  /**
   * Real paths of the directories repositories must live in (`MAESTRO_REPO_ROOTS`, parsed by
   * `parseRepoRoots`). SubmitTask refuses a repo_path whose real path is outside them
   * (`REPO_OUTSIDE_ROOTS`); an empty list refuses every repository (warned at start). Required:
   * where repositories may live is always a decision.
   */
  repoRoots: readonly string[];
  /**
   * Each tenant's repository roots within `repoRoots` (`MAESTRO_TENANT_REPO_ROOTS`, parsed by
   * `parseTenantRepoRoots` and checked against `repoRoots` by `checkTenantRepoRoots`). When any
   * are given, SubmitTask also refuses a repo_path outside its tenant's roots, and every
   * repository of a tenant without an entry (`REPO_OUTSIDE_TENANT_ROOTS`).
   * @default [] (every tenant shares `repoRoots`)
   */
  tenantRepoRoots?: readonly TenantRepoRoots[];
  /**
   * Confines the test command preflight runs on the repository's untouched HEAD (the baseline),
   * like an executor's test gate (`createSandboxFromSettings` of `@maestro/agent`). Required: a
   * repository's own command never runs without the operator having decided how.
   */
  sandbox: Sandbox;
  /**
   * Agent steps of tasks finished longer ago than this many days are deleted by an hourly sweep.
   * @default StepRetentionDefaults.retentionDays
   */
  stepRetentionDays?: number;
  /**
   * How reflexes are learned from verified fixes (who words them, retries). Model deadline and
   * re-asks default to `activityOptions`'. @default ReflexLearningDefaults
   */
  reflexes?: ReflexLearningOptions;
}

/** A running orchestrator. */
export interface Orchestrator {
  readonly tasks: TaskService;
  readonly server: GrpcServer;
  /**
   * The background reflex learner: `idle()` resolves once every learning in flight has settled
   * (tests wait on it); `resumeInterrupted()` runs one sweep for learnings left mid-way now.
   */
  readonly reflexes: Pick<ReflexLearner, 'idle' | 'resumeInterrupted'>;
  /** Starts the gRPC server and the consumers; resolves to the bound port. */
  start(): Promise<number>;
  /**
   * Stops taking calls and messages and lets what is in flight finish for up to the drain
   * timeout; activities still running then are aborted and handed back (nak'ed).
   */
  stop(): Promise<void>;
}

/** Resolves true when `ms` passes before `work` settles, false otherwise. */
async function outlasts(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    work.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), ms);
    }),
  ]);
  clearTimeout(timer);
  return timedOut;
}

/** Wires the orchestrator from its dependencies (nothing runs until `start`). */
export function createOrchestrator(deps: OrchestratorDeps): Orchestrator {
  if (deps.repoRoots.length === 0) {
    deps.logger.warn(`no repository roots: SubmitTask refuses every repository until ${REPO_ROOTS_VARIABLE} lists the directories they live in`);
  } else {
    deps.logger.info('repository roots', { repoRoots: deps.repoRoots });
  }
  if (deps.tenantRepoRoots !== undefined && deps.tenantRepoRoots.length > 0) {
    deps.logger.info('repository roots per tenant; a tenant without an entry is refused every repository', { tenantRepoRoots: deps.tenantRepoRoots });
  }
  // Every message naming a task is handled in the task's trace, however late it comes.
  const tracing = new TaskTracing(deps.taskTraces ?? new InMemoryTaskTraceStore(), deps.logger.child({ component: 'task-tracing' }));
  const bus = withTaskTraces(deps.bus, tracing);
  const work = new BusWorkPublisher(bus);
  const taskEvents = new BusTaskEvents(bus, deps.clock);
  const workflowDeadline = deps.workflowDeadlineMs !== undefined ? { workflowDeadlineMs: deps.workflowDeadlineMs } : {};
  const drainTimeoutMs = deps.drainTimeoutMs ?? 20_000;
  // The adapters activities use, made here and nowhere else.
  const branchDelivery = deps.branchDelivery ?? new GitBranchDelivery();
  const preflightProbe = deps.preflightProbe ?? new FsPreflightProbe({ sandbox: deps.sandbox });
  const runs = new RunStarter({
    store: deps.store,
    tracing,
    workflow: deps.workflow,
    taskEvents,
    logger: deps.logger.child({ component: 'run-starter' }),
    ...workflowDeadline,
    ...(deps.startRetryDelaysMs !== undefined ? { retryDelaysMs: deps.startRetryDelaysMs } : {}),
    ...(deps.inlineStartMs !== undefined ? { inlineStartMs: deps.inlineStartMs } : {}),
  });
  const tasks = new TaskService({
    store: deps.store,
    repoProbe: deps.repoProbe,
    workflow: deps.workflow,
    taskEvents,
    runs,
    router: deps.router,
    branches: branchDelivery,
    defaults: {
      budget: deps.defaultBudget ?? { usd: 0, tokens: 0 },
      repoRoots: deps.repoRoots,
      ...(deps.tenantRepoRoots !== undefined ? { tenantRepoRoots: deps.tenantRepoRoots } : {}),
      ...(deps.commandPolicy !== undefined ? { commandPolicy: deps.commandPolicy } : {}),
    },
    ...workflowDeadline,
  });
  const runnerDeps: ActivityRunnerDeps = {
    activities: orchestratorActivities,
    store: deps.store,
    repoProbe: deps.repoProbe,
    router: deps.router,
    memory: deps.memory,
    work,
    clock: deps.clock,
    steps: deps.steps,
    branchDelivery,
    preflightProbe,
    ...(deps.activityOptions ? { options: deps.activityOptions } : {}),
  };
  const escalationDeps: EscalationDeps = {
    store: deps.store,
    steps: deps.steps,
    work,
    events: new BusEscalationEvents(bus, deps.logger.child({ component: 'escalations' })),
    workflow: deps.workflow,
    router: deps.router,
    clock: deps.clock,
    repoProbe: deps.repoProbe,
    options: {
      ...(deps.escalationLimits !== undefined ? { limits: deps.escalationLimits } : {}),
      ...(deps.activityOptions?.replyReAsks !== undefined ? { replyReAsks: deps.activityOptions.replyReAsks } : {}),
      ...(deps.activityOptions?.modelDeadlineMs !== undefined ? { modelDeadlineMs: deps.activityOptions.modelDeadlineMs } : {}),
    },
  };
  const reflexes = new ReflexLearner(
    {
      store: deps.store,
      router: deps.router,
      memory: deps.memory,
      clock: deps.clock,
      options: {
        ...(deps.activityOptions?.replyReAsks !== undefined ? { replyReAsks: deps.activityOptions.replyReAsks } : {}),
        ...(deps.activityOptions?.modelDeadlineMs !== undefined ? { modelDeadlineMs: deps.activityOptions.modelDeadlineMs } : {}),
        ...(deps.activityOptions?.memoryDeadlineMs !== undefined ? { memoryDeadlineMs: deps.activityOptions.memoryDeadlineMs } : {}),
        ...deps.reflexes,
      },
    },
    deps.logger.child({ component: 'reflexes' }),
  );
  const server = createGrpcServer({
    address: deps.grpcAddress,
    logger: deps.logger,
    security: deps.security,
    healthPort: deps.healthPort,
    serviceNames: ['maestro.v1.OrchestratorService'],
    shutdownGraceMs: drainTimeoutMs,
  });
  server.add(OrchestratorServiceService, createOrchestratorHandlers(tasks, new AgentStepService(deps.steps)));
  const consumers: WorkConsumer[] = [];
  // Aborted when the drain time is up: activities in flight stop and hand their requests back.
  const handBack = new AbortController();
  let stopping: Promise<void> | undefined;

  const drainConsumers = async (): Promise<void> => {
    const stopping = consumers.splice(0);
    const stopped = Promise.all(stopping.map((c) => c.stop()));
    if (await outlasts(stopped, drainTimeoutMs)) {
      deps.logger.warn('drain timed out; handing in-flight activity requests back', {
        inFlight: stopping.reduce((n, c) => n + c.inFlight, 0),
        timeoutMs: drainTimeoutMs,
      });
      handBack.abort(new Error('orchestrator shutting down'));
      await stopped;
    }
  };

  const retention = new StepRetention(deps.steps, deps.clock, deps.logger.child({ component: 'step-retention' }), {
    retentionDays: deps.stepRetentionDays ?? StepRetentionDefaults.retentionDays,
  });

  return {
    tasks,
    server,
    reflexes,
    async start() {
      consumers.push(
        await subscribeActivityRequests(bus, runnerDeps, deps.logger, {
          concurrency: deps.concurrency ?? 4,
          signal: handBack.signal,
        }),
        await subscribeSubtaskResults(bus, { store: deps.store, work, clock: deps.clock, reflexes }),
        await subscribeRunEvents(
          bus,
          { store: deps.store, taskEvents, workflow: deps.workflow, ...workflowDeadline },
          deps.logger.child({ component: 'run-events' }),
        ),
        await subscribeWorkSteps(bus, deps.steps),
        await subscribeEscalations(bus, escalationDeps, deps.logger.child({ component: 'escalations' }), {
          concurrency: deps.concurrency ?? 4,
          signal: handBack.signal,
        }),
      );
      const port = await server.start();
      retention.start();
      // Learnings a replica left mid-way (it stopped while learning), now and every so often.
      reflexes.start();
      // Tasks a replica stored but could not start (engine down, then the replica died).
      await runs.resumeUnstarted();
      return port;
    },
    stop() {
      // Idempotent: a second call (a test's cleanup, a second signal) waits for the first.
      stopping ??= (async () => {
        // Learnings in flight are abandoned (the next start's sweep, here or on another replica, resumes them).
        await Promise.all([server.shutdown(), drainConsumers(), runs.stop(), retention.stop(), reflexes.stop()]);
        deps.logger.info('orchestrator stopped');
      })();
      return stopping;
    },
  };
}
