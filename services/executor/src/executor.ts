/**
 * One executor process, assembled: the subtask worker with its router model, lock-manager
 * write guard and memory recall, the shared durable work consumer, the result store, the `task.updated`
 * subscription that stops work of ended tasks, and the drain and shutdown behaviour the admin
 * RPCs and SIGTERM use. `main.ts` only wires config and clients into it.
 */
import { createCommandPolicy, createSandboxFromSettings, parseCommandPrefixes, toPrefixRules, type Sandbox, type ToolRegistry } from '@maestro/agent';
import type { Bus, LiveSubscription, WorkConsumer } from '@maestro/bus';
import { executorLockOwner, type ExecutorStatus } from '@maestro/contracts';
import { checkTenantRepoRoots, processSecrets, REPO_ROOTS_VARIABLE, systemClock, type Clock, type Logger } from '@maestro/runtime';
import { KvWorkResultStore, WORK_RESULTS_BUCKET } from './store/kv-work-result-store.js';
import { LockManagerWorkLease } from './store/lock-manager-work-lease.js';
import { LockManagerWriteGuard, type LockClient } from './store/lock-manager-write-guard.js';
import { GrpcMemoryRecall, type MemoryRecallClient } from './store/grpc-memory-recall.js';
import { RouterChatModel, type RouterCompleteClient } from './store/router-chat-model.js';
import { RecallDefaults, WorkspaceDefaults, type ExecutorConfig } from './config.js';
import { EndedTasks } from './domain/ended-tasks.js';
import { countStepDrops, createExecutorMetrics, instrumentWorkPublisher } from './metrics.js';
import { ExecutorStats } from './domain/executor-stats.js';
import type { SubtaskCollaborators, WorkResultStore } from './domain/ports.js';
import type { ExecutorAdmin } from './transport/grpc/executor-admin.handler.js';
import { replayTaskEnds } from './transport/nats/task-events.replay.js';
import { subscribeTaskEnds } from './transport/nats/task-events.subscriber.js';
import { BusWorkPublisher } from './transport/nats/work.publisher.js';
import { startWorkSubscriber } from './transport/nats/work.subscriber.js';
import { SubtaskWorker } from './work/subtask-worker.js';
import type { SubtaskRecallSettings } from './work/subtask-recall.js';

/**
 * The settings an executor runs with (a subset of {@link ExecutorConfig}); the worktree, lock
 * wait and merge settings default to {@link WorkspaceDefaults}, the recall settings to
 * {@link RecallDefaults}.
 */
export type ExecutorSettings = Pick<ExecutorConfig, 'executorId' | 'concurrency' | 'maxSteps' | 'maxDeliver' | 'ackWaitMs' | 'lockTtlMs' | 'repoRoots'> &
  Partial<
    Pick<ExecutorConfig, 'tenantRepoRoots' | 'worktreeRoot' | 'lockWaitMs' | 'declaredLockWaitMs' | 'mergeLockWaitMs' | 'mergeAttempts' | 'worktreeLinks' | 'recallDeadlineMs' | 'recallLimit' | 'summariser' | 'commandAllow' | 'commandDeny' | 'sandbox' | 'allowUnsandboxed' | 'sandboxNetwork' | 'sandboxReadPaths' | 'sandboxAllowUnlimitedProcesses' | 'sandboxMinFreeDiskMib'>
  >;

/** Options for {@link createExecutor}. */
export interface CreateExecutorOptions {
  settings: ExecutorSettings;
  bus: Bus;
  logger: Logger;
  /** The router's promise client (`createGrpcClient(RouterServiceClient, …).call`). */
  router?: RouterCompleteClient;
  /** The lock-manager's promise client (`createGrpcClient(LockServiceClient, …).call`). */
  locks?: LockClient;
  /**
   * The memory service's promise client (`createGrpcClient(MemoryServiceClient, …).call`), which
   * each subtask recalls from before its agent starts.
   * @default none: agents work without recalled memories (said at start)
   */
  memory?: MemoryRecallClient;
  /**
   * Per-subtask model and write guard; replaces `router` and `locks` (tests, embedded mode).
   * @default RouterChatModel over `router`, LockManagerWriteGuard over `locks`
   */
  collaborators?: SubtaskCollaborators;
  /** @default KvWorkResultStore on the bucket `maestro_work_results` (namespaced like the bus) */
  results?: WorkResultStore;
  /** @default the agent's default tool registry */
  tools?: ToolRegistry;
  /**
   * Confines the agents' `exec` and test gates. @default from the settings (`createSandboxFromSettings`:
   * bubblewrap if its probe passes, else refusing every command or, if allowed, unsandboxed)
   */
  sandbox?: Sandbox;
  /**
   * Time for the ended-tasks registry and the window of task events replayed at start.
   * @default systemClock
   */
  clock?: Clock;
}

/** A running (or drained) executor. */
export class Executor implements ExecutorAdmin {
  private readonly stats = new ExecutorStats();
  private readonly handBack = new AbortController();
  private readonly endedTasks: EndedTasks;
  private readonly worker: SubtaskWorker;
  private taskEvents: LiveSubscription | undefined;
  private consumer: WorkConsumer | undefined;
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly settings: ExecutorSettings,
    private readonly bus: Bus,
    results: WorkResultStore,
    collaborators: SubtaskCollaborators,
    private readonly logger: Logger,
    tools: ToolRegistry | undefined,
    private readonly clock: Clock = systemClock,
    recall?: SubtaskRecallSettings,
    sandbox?: Sandbox,
  ) {
    this.endedTasks = new EndedTasks({ clock });
    const metrics = createExecutorMetrics();
    this.worker = new SubtaskWorker({
      executorId: settings.executorId,
      results,
      publisher: instrumentWorkPublisher(new BusWorkPublisher(bus), metrics),
      stepOutbox: { onDropped: countStepDrops(metrics) },
      ...collaborators,
      budget: { maxSteps: settings.maxSteps },
      repoRoots: settings.repoRoots,
      ...(settings.tenantRepoRoots !== undefined ? { tenantRepoRoots: settings.tenantRepoRoots } : {}),
      ...(settings.summariser !== undefined ? { summariser: settings.summariser } : {}),
      // The process's secrets (its environment's keys, URL passwords), out of prompts and steps.
      redactor: processSecrets(),
      commandPolicy: createCommandPolicy({
        allow: toPrefixRules(parseCommandPrefixes(settings.commandAllow ?? ''), 'MAESTRO_COMMAND_ALLOW'),
        deny: toPrefixRules(parseCommandPrefixes(settings.commandDeny ?? ''), 'MAESTRO_COMMAND_DENY'),
      }),
      stats: this.stats,
      endedTasks: this.endedTasks,
      workspace: {
        worktreeRoot: settings.worktreeRoot,
        declaredLockWaitMs: settings.declaredLockWaitMs,
        mergeLockWaitMs: settings.mergeLockWaitMs,
        mergeAttempts: settings.mergeAttempts,
        worktreeLinks: settings.worktreeLinks,
      },
      logger,
      ...(tools !== undefined ? { tools } : {}),
      ...(recall !== undefined ? { recall } : {}),
      ...(sandbox !== undefined ? { sandbox } : {}),
    });
  }

  /**
   * Removes worktrees an earlier process with this executor id left behind, starts listening for
   * ended tasks, replays the task ends stored in the events stream during the registry's lifetime
   * (24 h), then pulls work from the shared durable consumer: in that order, so a cancel
   * published before this executor took any work is known first, and none falls between the
   * replay and the live subscription.
   */
  async start(): Promise<void> {
    if (this.taskEvents !== undefined || this.stopped !== undefined) throw new Error('executor already started');
    const orphans = await this.worker.removeOrphanedWorktrees();
    if (orphans > 0) this.logger.info('orphaned worktrees removed', { count: orphans });
    this.taskEvents = await subscribeTaskEnds(this.bus, this.endedTasks, this.logger);
    await this.replayTaskEnds();
    this.replayAfterReconnects();
    this.consumer = await startWorkSubscriber(this.bus, this.worker, {
      concurrency: this.settings.concurrency,
      maxDeliver: this.settings.maxDeliver,
      ackWaitMs: this.settings.ackWaitMs,
      signal: this.handBack.signal,
    });
    this.logger.info('executor pulling work', { concurrency: this.settings.concurrency });
  }

  /** Reads the task ends stored in the events stream during the registry's lifetime. */
  private async replayTaskEnds(): Promise<void> {
    await replayTaskEnds(this.bus, this.endedTasks, this.logger, { clock: this.clock, windowMs: this.endedTasks.ttlMs });
  }

  /**
   * Replays again after each NATS reconnect: the live subscription is renewed by the client,
   * but task ends published while the connection was down were never delivered to it. Work is
   * still pulled during this replay, so an item taken in the few moments before it finishes
   * can still run (see README, *Ended tasks*).
   */
  private replayAfterReconnects(): void {
    void (async () => {
      // Ends when the connection closes.
      for await (const status of this.bus.connection.status()) {
        if (status.type !== 'reconnect' || this.stopped !== undefined) continue;
        this.logger.info('nats reconnected; replaying task events missed meanwhile');
        await this.replayTaskEnds();
      }
    })().catch((err: unknown) => {
      this.logger.error('task events replay after reconnect stopped', { error: err instanceof Error ? err.message : String(err) });
    });
  }

  status(): ExecutorStatus {
    const s = this.stats.snapshot();
    return {
      executorId: this.settings.executorId,
      draining: s.draining,
      inFlight: s.inFlight,
      completed: s.completed,
      failed: s.failed,
      concurrency: this.settings.concurrency,
    };
  }

  drain(): ExecutorStatus {
    void this.stopPulling();
    return this.status();
  }

  /**
   * Stops pulling and lets in-flight subtasks finish for up to `timeoutMs`; those still running
   * then are aborted and handed back (nak'ed) for another replica, and this resolves once they
   * are settled.
   */
  async shutdown(timeoutMs: number): Promise<void> {
    const stopped = this.stopPulling();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      stopped.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.logger.warn('drain timed out; handing in-flight subtasks back', {
        inFlight: this.stats.snapshot().inFlight,
        timeoutMs,
      });
      this.handBack.abort(new Error('executor shutting down'));
      await stopped;
    }
    // Kept until in-flight work settled: a task ending during the drain still stops its work.
    this.taskEvents?.unsubscribe();
    this.worker.close();
    const { completed, failed, inFlight } = this.status();
    this.logger.info('executor stopped', { completed, failed, inFlight });
  }

  private stopPulling(): Promise<void> {
    if (this.stopped === undefined) {
      this.stats.markDraining();
      this.logger.info('executor draining: no new work will be pulled', { inFlight: this.stats.snapshot().inFlight });
      this.stopped = (this.consumer?.stop() ?? Promise.resolve()).catch((err: unknown) => {
        this.logger.error('work consumer did not stop cleanly', { error: err instanceof Error ? err.message : String(err) });
      });
    }
    return this.stopped;
  }
}

/**
 * Builds an executor: opens the work-results bucket (creating it if needed) and the per-subtask
 * collaborators, without pulling work yet (call `start()`).
 */
export async function createExecutor(options: CreateExecutorOptions): Promise<Executor> {
  const { settings, bus, logger } = options;
  // Before anything opens: a tenant root outside MAESTRO_REPO_ROOTS stops the executor, naming the variable.
  checkTenantRepoRoots(settings.tenantRepoRoots ?? [], settings.repoRoots);
  const results =
    options.results ??
    (await KvWorkResultStore.open(bus.connection, { bucket: bus.namespace.stream(WORK_RESULTS_BUCKET) }));
  const collaborators = options.collaborators ?? routerAndLockCollaborators(options);
  if (settings.repoRoots.length === 0) {
    logger.warn(`no repository roots: every subtask will be refused until ${REPO_ROOTS_VARIABLE} lists the directories repositories live in`);
  } else {
    logger.info('repository roots', { repoRoots: settings.repoRoots });
  }
  if (settings.tenantRepoRoots !== undefined && settings.tenantRepoRoots.length > 0) {
    logger.info('repository roots per tenant; work of a tenant without an entry is refused', { tenantRepoRoots: settings.tenantRepoRoots });
  }
  const sandbox = options.sandbox ?? (await createSandboxFromSettings(settings, logger));
  return new Executor(settings, bus, results, collaborators, logger, options.tools, options.clock, recallSettings(options), sandbox);
}

/** How subtasks recall, or undefined (said once, here) when no memory client was given. */
function recallSettings(options: CreateExecutorOptions): SubtaskRecallSettings | undefined {
  const { memory, settings, logger } = options;
  if (memory === undefined) {
    logger.info('memory recall off: no memory address (MAESTRO_MEMORY_GRPC_ADDR); agents work without recalled memories');
    return undefined;
  }
  const recall = {
    memory: new GrpcMemoryRecall(memory),
    limit: settings.recallLimit ?? RecallDefaults.limit,
    deadlineMs: settings.recallDeadlineMs ?? RecallDefaults.deadlineMs,
  };
  logger.info('memory recall on', { limit: recall.limit, deadlineMs: recall.deadlineMs });
  return recall;
}

function routerAndLockCollaborators(options: CreateExecutorOptions): SubtaskCollaborators {
  const { router, locks, settings, logger } = options;
  if (router === undefined || locks === undefined) {
    throw new Error('createExecutor needs either `collaborators` or both the `router` and `locks` clients');
  }
  return {
    createModel: (work) =>
      new RouterChatModel({
        client: router,
        taskId: work.taskId,
        runId: work.runId,
        subtaskId: work.subtaskId,
        attempt: work.attempt,
        ...(work.role !== undefined ? { role: work.role } : {}),
        ...(work.budget !== undefined ? { budget: work.budget } : {}),
        ...(work.taskIntent !== undefined ? { taskIntent: work.taskIntent } : {}),
      }),
    createWriteGuard: (work, events) =>
      new LockManagerWriteGuard({
        client: locks,
        owner: executorLockOwner({ executorId: settings.executorId, taskId: work.taskId, subtaskId: work.subtaskId }),
        ttlMs: settings.lockTtlMs,
        waitMs: settings.lockWaitMs ?? WorkspaceDefaults.lockWaitMs,
        // The concerns are named on the repository (README "Locks"), so the lock-manager bounds them
        // by it. By now repoPath is the real path the intake check resolved, and SubmitTask accepts
        // only a repository's top level: it is the top-level real path the worktree's concerns map onto.
        repoRoot: work.repoPath,
        ...(options.clock !== undefined ? { clock: options.clock } : {}),
        ...(events !== undefined ? { events } : {}),
        logger: logger.child({ subtaskId: work.subtaskId, component: 'write-guard' }),
      }),
    // Its TTL is the ack wait: a dead holder's lease runs out about when its work is redelivered.
    createWorkLease: (work) =>
      new LockManagerWorkLease({
        client: locks,
        work,
        owner: executorLockOwner({ executorId: settings.executorId, taskId: work.taskId, subtaskId: work.subtaskId }),
        ttlMs: settings.ackWaitMs,
        ...(options.clock !== undefined ? { clock: options.clock } : {}),
        logger: logger.child({ subtaskId: work.subtaskId, component: 'work-lease' }),
      }),
  };
}
