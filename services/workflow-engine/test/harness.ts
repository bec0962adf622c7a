/**
 * Test harness: a scratch database, a NATS bus in a random namespace (its own streams and
 * consumers on the shared server), an engine wired as `main.ts` wires it, and a stand-in for
 * the orchestrator that collects activity requests and publishes activity results.
 */
import { randomUUID } from 'node:crypto';
import { connectBus, type Bus, type WorkConsumer } from '@maestro/bus';
import {
  ActivityRequestSchema,
  Consumers,
  RunEventSchema,
  Streams,
  Subjects,
  WorkQueues,
  type ActivityRequest,
  type ActivityResult,
  type RunEvent,
} from '@maestro/contracts';
import { createSilentLogger } from '@maestro/runtime';
import { testNamespace, testServers } from '@maestro/testing';
import { createWorkflowEngine, type RunEventsPublisher, type WorkflowEngine, type WorkflowEngineDeps } from '../src/engine.js';
import { PostgresRunStore } from '../src/store/postgres-run-store.js';
import { startActivityResultSubscriber, type ActivityResultSubscriberOptions } from '../src/transport/nats/activity-result.subscriber.js';
import { NatsRunEventsPublisher } from '../src/transport/nats/run-events.publisher.js';
import { createScratchDatabase, type ScratchDatabase } from './scratch-database.js';

/** A queue that test code awaits items from, with a clear failure when one never comes. */
export class Inbox<T> {
  private readonly items: T[] = [];
  private waiters: Array<() => void> = [];

  push(item: T): void {
    this.items.push(item);
    this.waiters.splice(0).forEach((w) => w());
  }

  /** Everything received so far. */
  get all(): readonly T[] {
    return this.items;
  }

  /**
   * Resolves with the first item (from `from` on) that matches; fails after `timeoutMs` with
   * what did arrive, so a broken flow reads as a message rather than a hang.
   */
  async waitFor(match: (item: T) => boolean, what: string, timeoutMs = 15_000, from = 0): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.items.slice(from).find(match);
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; received: ${JSON.stringify(this.items, null, 1).slice(0, 3000)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

/** The shared pieces of one test file: database and bus namespace. */
export interface Environment {
  scratch: ScratchDatabase;
  store: PostgresRunStore;
  bus: Bus;
  namespace: string;
  /** Activity requests as the orchestrator's work consumer receives them. */
  requests: Inbox<ActivityRequest>;
  /** Run events (started, transitioned, finished) as a live subscriber sees them. */
  runEvents: Inbox<RunEvent & { subject: string }>;
  /** Publishes an activity result as the orchestrator would. */
  publishResult(result: ActivityResult): Promise<void>;
  close(): Promise<void>;
}

/** Creates the database, the namespaced streams and the orchestrator stand-in. */
export async function createEnvironment(): Promise<Environment> {
  const scratch = await createScratchDatabase();
  const namespace = testNamespace('we');
  const bus = await connectBus({ url: testServers.natsUrl, name: `workflow-engine-test-${namespace}`, logger: createSilentLogger(), namespace, streamLimits: { storage: 'memory' } });
  await bus.ensureStreams();
  const requests = new Inbox<ActivityRequest>();
  const runEvents = new Inbox<RunEvent & { subject: string }>();
  const orchestrator: WorkConsumer = await bus.consume({
    stream: Streams.work.name,
    durable: Consumers.orchestratorWork,
    filterSubject: Subjects.workQueue(WorkQueues.orchestrator),
    schema: ActivityRequestSchema,
    handler: async (request) => requests.push(request),
  });
  for (const subject of [Subjects.runStarted, Subjects.runTransitioned, Subjects.runFinished]) {
    bus.subscribe(subject, RunEventSchema, (event, s) => runEvents.push({ ...event, subject: s }));
  }
  return {
    scratch,
    store: new PostgresRunStore(scratch.db),
    bus,
    namespace,
    requests,
    runEvents,
    publishResult: (result) => bus.publish(Subjects.activityResult, result, { msgId: `${result.workId}:${randomUUID()}` }),
    async close() {
      await orchestrator.stop();
      // Namespaced streams are this file's alone: delete them so the server does not fill up.
      for (const spec of Object.values(Streams)) await bus.jsm.streams.delete(bus.namespace.stream(spec.name)).catch(() => undefined);
      await bus.close();
      await scratch.drop();
    },
  };
}

/** One engine instance as `main.ts` runs it: engine + result subscriber. */
export interface EngineInstance {
  engine: WorkflowEngine;
  stop(): Promise<void>;
}

/** Starts an engine on the environment's database and bus (a "process"). */
export async function startEngine(
  env: Environment,
  options: {
    publisher?: RunEventsPublisher;
    subscribe?: boolean;
    /** Start the periodic timeout sweep, as main.ts does. @default true */
    sweep?: boolean;
    /** Options of the result subscriber besides its logger. */
    results?: Omit<ActivityResultSubscriberOptions, 'logger'>;
  } & Partial<WorkflowEngineDeps> = {},
): Promise<EngineInstance> {
  const { subscribe, sweep, results, ...deps } = options;
  const logger = createSilentLogger();
  const engine = createWorkflowEngine({
    store: env.store,
    publisher: options.publisher ?? new NatsRunEventsPublisher(env.bus),
    logger,
    watchPollMs: 60_000,
    // Short, so a stopped engine's last wait (wall clock) ends soon after the test.
    sweepMs: 250,
    ...deps,
  });
  await engine.ensureDefaultDefinitions();
  await engine.resume();
  if (sweep !== false) engine.startTimeoutSweep();
  const consumer = subscribe === false ? undefined : await startActivityResultSubscriber(env.bus, engine, { logger, ...results });
  return {
    engine,
    async stop() {
      engine.endWatches();
      await consumer?.stop();
      await engine.stop();
    },
  };
}

/** The result an orchestrator would send for a request. */
export function resultFor(request: ActivityRequest, outcome: { ok: true; output?: Record<string, unknown> } | { ok: false; code?: string; message?: string }): ActivityResult {
  const base = {
    workId: request.workId,
    runId: request.runId,
    state: request.state,
    activity: request.activity,
    attempt: request.attempt,
    finishedAt: new Date().toISOString(),
  };
  return outcome.ok
    ? { ...base, ok: true, output: outcome.output ?? {} }
    : { ...base, ok: false, error: { code: outcome.code ?? 'FAILED', message: outcome.message ?? 'it failed' } };
}
