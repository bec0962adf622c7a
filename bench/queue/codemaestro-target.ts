/**
 * CodeMaestro under test: real executor processes (`services/executor/dist/main.js`) pulling
 * probe work from the shared durable consumer, the whole executor path per item (idempotency
 * check in KV, result stored in KV, `SubtaskResult` published, `work.finished` event, ack).
 * Work is published the way the orchestrator publishes it (`Bus.publish`, `Nats-Msg-Id` =
 * workId); completions are read from the results subject with a plain subscription.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectBus, type Bus } from '@maestro/bus';
import { Streams, Subjects, type SubtaskWork } from '@maestro/contracts';
import { createSilentLogger } from '@maestro/runtime';
import type { Subscription } from '@nats-io/transport-node';
import type { Completion, QueueTarget } from './target.js';
import { startAll, startWorkerProcess, stopWorkerProcesses, type WorkerProcess } from './worker-processes.js';

const WORKSPACE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const EXECUTOR_MAIN = join(WORKSPACE_ROOT, 'services', 'executor', 'dist', 'main.js');
/** The executor's KV bucket, namespaced like the bus (see the executor's `createExecutor`). */
const WORK_RESULTS_BUCKET = 'maestro_work_results';

/** Reads `startedAt=<epoch ms>` from a probe result's summary (format in the executor README). */
const STARTED_AT = /startedAt=(\d+(?:\.\d+)?)/;

/** Options for {@link CodeMaestroTarget}. */
export interface CodeMaestroTargetOptions {
  natsUrl: string;
  /** `MAESTRO_EXECUTOR_CONCURRENCY` of every executor. */
  concurrency: number;
}

/** Executor processes in a bus namespace of their own. */
export class CodeMaestroTarget implements QueueTarget {
  readonly system = 'CodeMaestro executor';
  private bus: Bus | undefined;
  private subscription: Subscription | undefined;
  private processes: WorkerProcess[] = [];
  private listener: (completion: Completion) => void = () => undefined;
  private readonly namespace = `bench${randomUUID().replace(/-/g, '').slice(0, 10)}`;

  /** The executors and this publisher sign work and results with one key, as a cluster does. */
  private readonly busSigningKey = randomBytes(32).toString('base64url');

  constructor(private readonly options: CodeMaestroTargetOptions) {}

  async start(workers: number): Promise<void> {
    const bus = await connectBus({ url: this.options.natsUrl, name: 'bench-queue', logger: createSilentLogger(), namespace: this.namespace, signing: { key: this.busSigningKey } });
    this.bus = bus;
    await bus.ensureStreams();
    this.subscription = bus.connection.subscribe(bus.namespace.subject(Subjects.subtaskResult), {
      callback: (err, msg) => {
        if (err) return;
        const result = msg.json<{ workId: string; summary: string }>();
        const startedAt = STARTED_AT.exec(result.summary)?.[1];
        if (startedAt !== undefined) this.listener({ id: result.workId, startedAt: Number(startedAt) });
      },
    });
    const env = (i: number): NodeJS.ProcessEnv => ({
      PATH: process.env.PATH,
      MAESTRO_LOG_LEVEL: 'info',
      MAESTRO_NATS_URL: this.options.natsUrl,
      MAESTRO_NATS_NAMESPACE: this.namespace,
      MAESTRO_EXECUTOR_ID: `bench-executor-${i}`,
      MAESTRO_BUS_SIGNING_KEY: this.busSigningKey,
      MAESTRO_EXECUTOR_GRPC_ADDR: '127.0.0.1:0',
      // Several executors side by side: none serves metrics, so none fights over the default port.
      MAESTRO_METRICS_PORT: '0',
      // Local benchmark: plaintext gRPC (mTLS needs the MAESTRO_GRPC_TLS_* files).
      MAESTRO_GRPC_PLAINTEXT: 'true',
      MAESTRO_EXECUTOR_CONCURRENCY: String(this.options.concurrency),
    });
    // e.g. BENCH_EXECUTOR_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the executors.
    const nodeArgs = (process.env.BENCH_EXECUTOR_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
    this.processes = await startAll(Array.from({ length: workers }, (_, i) => startWorkerProcess([...nodeArgs, EXECUTOR_MAIN], env(i), 'executor pulling work')), (started) => {
      this.processes = started;
    });
  }

  async enqueue(id: string, sentAt: number): Promise<void> {
    const work: SubtaskWork = {
      workId: id,
      taskId: 'bench',
      runId: 'bench',
      subtaskId: id,
      attempt: 1,
      goal: '',
      title: 'probe',
      instructions: '',
      files: [],
      repoPath: '/nonexistent/bench',
      testCommand: [],
      project: 'bench',
      kind: 'probe',
      probeSentAt: sentAt,
    };
    await this.bus!.publish(Subjects.subtaskWork, work, { msgId: id });
  }

  onCompleted(listener: (completion: Completion) => void): void {
    this.listener = listener;
  }

  async stop(): Promise<void> {
    await stopWorkerProcesses(this.processes);
    this.processes = [];
    this.subscription?.unsubscribe();
    const bus = this.bus;
    if (bus === undefined) return;
    for (const spec of Object.values(Streams)) await bus.jsm.streams.delete(bus.namespace.stream(spec.name)).catch(() => undefined);
    await bus.jsm.streams.delete(`KV_${bus.namespace.stream(WORK_RESULTS_BUCKET)}`).catch(() => undefined);
    await bus.close();
    this.bus = undefined;
  }
}
