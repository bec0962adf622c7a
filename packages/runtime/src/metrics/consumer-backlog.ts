/**
 * Work queue depth and consumer lag of the JetStream consumers a process drains, read on
 * scrape. A source (registered by `@maestro/bus` for each consumer it starts) reports the
 * consumer's counts; each scrape reads every source once, in parallel, each bounded by a
 * timeout so a slow NATS answer costs that consumer's sample, never the whole scrape.
 *
 * - `maestro_consumer_lag_messages`: messages not yet delivered to any worker (JetStream's
 *   `num_pending`; what KEDA's `lagThreshold` compares).
 * - `maestro_work_queue_depth`: work not finished, waiting or in progress (`num_pending` +
 *   `num_ack_pending`).
 */
import type { Registry } from 'prom-client';
import { systemClock, type Clock } from '../clock.js';
import { defineCounter, defineGauge } from './registry.js';

/** A consumer's counts, as JetStream's consumer info reports them. */
export interface ConsumerBacklog {
  /** Messages matching the consumer that were not delivered yet. */
  pending: number;
  /** Messages delivered and not yet acknowledged (being worked on). */
  ackPending: number;
}

/** Where the counts of one consumer come from. */
export interface ConsumerBacklogSource {
  /** Stream name as the server knows it (namespace included). */
  readonly stream: string;
  /** Durable consumer name as the server knows it. */
  readonly consumer: string;
  /** Reads the counts; should stop when `signal` aborts. */
  read(signal: AbortSignal): Promise<ConsumerBacklog>;
}

/** Options for {@link trackConsumerBacklog}. */
export interface ConsumerBacklogOptions {
  /** Longest wait for one consumer's counts during a scrape. @default 2000 */
  timeoutMs?: number;
  /** @default systemClock */
  clock?: Clock;
}

type BacklogLabel = 'stream' | 'consumer';
interface Tracked {
  source: ConsumerBacklogSource;
  timeoutMs: number;
  clock: Clock;
}
interface Reading {
  source: ConsumerBacklogSource;
  backlog: ConsumerBacklog;
}

const tracked = new WeakMap<Registry, Set<Tracked>>();

async function readWithTimeout(entry: Tracked): Promise<ConsumerBacklog> {
  const controller = new AbortController();
  const timeout = entry.clock
    .sleep(entry.timeoutMs, controller.signal)
    .then(() => Promise.reject(new Error(`no consumer info within ${entry.timeoutMs} ms`)));
  try {
    return await Promise.race([entry.source.read(controller.signal), timeout]);
  } finally {
    controller.abort();
    timeout.catch(() => undefined);
  }
}

function definitions(registry: Registry): Set<Tracked> {
  const existing = tracked.get(registry);
  if (existing) return existing;
  const entries = new Set<Tracked>();
  tracked.set(registry, entries);
  const failures = defineCounter<BacklogLabel>(registry, {
    name: 'maestro_consumer_info_failures_total',
    help: 'Scrapes that got no consumer info in time (the consumer has no lag or depth sample in that scrape).',
    labelNames: ['stream', 'consumer'],
  });
  // Both gauges are collected in parallel by one scrape: the first to ask starts the reads, the
  // other awaits the same ones.
  let inflight: Promise<Reading[]> | undefined;
  const readAll = (): Promise<Reading[]> => {
    inflight ??= Promise.all(
      [...entries].map(async (entry): Promise<Reading | undefined> => {
        try {
          return { source: entry.source, backlog: await readWithTimeout(entry) };
        } catch {
          failures.inc({ stream: entry.source.stream, consumer: entry.source.consumer });
          return undefined;
        }
      }),
    )
      .then((readings) => readings.filter((r): r is Reading => r !== undefined))
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  };
  defineGauge<BacklogLabel>(registry, {
    name: 'maestro_consumer_lag_messages',
    help: 'Messages of the consumer not yet delivered to a worker (JetStream num_pending).',
    labelNames: ['stream', 'consumer'],
    async collect() {
      const readings = await readAll();
      this.reset();
      for (const { source, backlog } of readings) this.set({ stream: source.stream, consumer: source.consumer }, backlog.pending);
    },
  });
  defineGauge<BacklogLabel>(registry, {
    name: 'maestro_work_queue_depth',
    help: 'Work on the consumer not finished yet: waiting plus in progress (num_pending + num_ack_pending).',
    labelNames: ['stream', 'consumer'],
    async collect() {
      const readings = await readAll();
      this.reset();
      for (const { source, backlog } of readings) {
        this.set({ stream: source.stream, consumer: source.consumer }, backlog.pending + backlog.ackPending);
      }
    },
  });
  return entries;
}

/** Reports `source` on every scrape of `registry` until the returned function is called. */
export function trackConsumerBacklog(registry: Registry, source: ConsumerBacklogSource, options: ConsumerBacklogOptions = {}): () => void {
  const entries = definitions(registry);
  const entry: Tracked = { source, timeoutMs: options.timeoutMs ?? 2_000, clock: options.clock ?? systemClock };
  entries.add(entry);
  return () => {
    entries.delete(entry);
  };
}
