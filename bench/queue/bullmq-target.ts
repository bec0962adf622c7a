/**
 * BullMQ under test, on the same Redis the cluster uses: `bullmq-worker.js` processes with an
 * empty processor, jobs added with `Queue.add` (custom job id), completions read from
 * `QueueEvents` with the processor's return value.
 */
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import type { Completion, QueueTarget } from './target.js';
import { startAll, startWorkerProcess, stopWorkerProcesses, type WorkerProcess } from './worker-processes.js';

const WORKER_MAIN = join(dirname(fileURLToPath(import.meta.url)), 'bullmq-worker.js');

/** Options for {@link BullMqTarget}. */
export interface BullMqTargetOptions {
  redisUrl: string;
  /** `concurrency` of every worker. */
  concurrency: number;
}

/** BullMQ worker processes on a queue (and key prefix) of their own. */
export class BullMqTarget implements QueueTarget {
  readonly system = 'BullMQ';
  private readonly queueName = 'bench-queue';
  private readonly prefix = `bench-${randomUUID().slice(0, 8)}`;
  private connection: Redis | undefined;
  private eventsConnection: Redis | undefined;
  private queue: Queue | undefined;
  private events: QueueEvents | undefined;
  private processes: WorkerProcess[] = [];
  private listener: (completion: Completion) => void = () => undefined;

  constructor(private readonly options: BullMqTargetOptions) {}

  async start(workers: number): Promise<void> {
    this.connection = new Redis(this.options.redisUrl, { maxRetriesPerRequest: null });
    this.eventsConnection = new Redis(this.options.redisUrl, { maxRetriesPerRequest: null });
    // A long events stream, so a burst's events are never trimmed before they are read.
    this.queue = new Queue(this.queueName, { connection: this.connection, prefix: this.prefix, streams: { events: { maxLen: 200_000 } } });
    this.events = new QueueEvents(this.queueName, { connection: this.eventsConnection, prefix: this.prefix });
    this.events.on('completed', ({ jobId, returnvalue }) => {
      const value = (typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue) as { startedAt?: number } | null;
      if (typeof value?.startedAt === 'number') this.listener({ id: jobId, startedAt: value.startedAt });
    });
    await Promise.all([this.queue.waitUntilReady(), this.events.waitUntilReady()]);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      BENCH_REDIS_URL: this.options.redisUrl,
      BENCH_QUEUE: this.queueName,
      BENCH_PREFIX: this.prefix,
      BENCH_CONCURRENCY: String(this.options.concurrency),
    };
    this.processes = await startAll(Array.from({ length: workers }, () => startWorkerProcess([WORKER_MAIN], env, 'bullmq worker ready')), (started) => {
      this.processes = started;
    });
  }

  async enqueue(id: string, sentAt: number): Promise<void> {
    await this.queue!.add('noop', { sentAt }, { jobId: id });
  }

  onCompleted(listener: (completion: Completion) => void): void {
    this.listener = listener;
  }

  async stop(): Promise<void> {
    await stopWorkerProcesses(this.processes);
    this.processes = [];
    await this.events?.close();
    if (this.queue !== undefined) {
      await this.queue.obliterate({ force: true }).catch(() => undefined);
      await this.queue.close();
    }
    this.connection?.disconnect();
    this.eventsConnection?.disconnect();
    this.queue = undefined;
    this.events = undefined;
  }
}
