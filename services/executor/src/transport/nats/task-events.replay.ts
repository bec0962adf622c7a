/**
 * The executor's memory of task ends it did not hear live: a bounded read of the recent
 * `maestro.events.task.updated` events kept in the `MAESTRO_EVENTS` stream into
 * {@link EndedTasks}, so an executor that starts after a task's final event still refuses the
 * task's queued work. On a signed bus an event that fails verification (`Bus.verifyStored`) is
 * skipped: a forged cancel stored in the stream must not stop work either.
 */
import type { Bus } from '@maestro/bus';
import { Streams, Subjects, TaskEventSchema } from '@maestro/contracts';
import type { Clock, Logger } from '@maestro/runtime';
import type { EndedTasks } from '../../domain/ended-tasks.js';

/** Options for {@link replayTaskEnds}. */
export interface ReplayTaskEndsOptions {
  /** Reads events stored at or after `clock.now() - windowMs`. */
  clock: Clock;
  /**
   * How far back to read; the ended-tasks registry forgets entries after this long anyway.
   * @default 86400000 (24 h)
   */
  windowMs?: number;
  /**
   * Most events read; past it the replay stops with a warning (the newest events are then missing).
   * @default 100000
   */
  maxMessages?: number;
  /**
   * Longest the replay may take; past it the replay stops with a warning, so a huge or slow
   * stream delays the executor's start by at most this much.
   * @default 10000
   */
  timeoutMs?: number;
}

/** What one replay did, for logs and tests. */
export interface ReplayTaskEndsSummary {
  /** `task.updated` events read from the stream. */
  read: number;
  /** Tasks newly recorded as ended. */
  ended: number;
  /** Events that did not parse as a `TaskEvent`, skipped. */
  malformed: number;
  /** Events without a valid signature on a signed bus (unsigned, forged, stale, replayed), skipped. */
  unauthenticated: number;
  /** Whether the replay stopped at `maxMessages` or `timeoutMs` before reaching the stream's end. */
  cut: boolean;
}

/**
 * Reads the stored `task.updated` events of the last `windowMs` with an ephemeral ordered
 * consumer (one filter subject, which NATS 2.9 accepts) into `endedTasks`, until none is
 * pending. Call it after the live subscription is in place, so no event falls between the two;
 * an event seen by both is harmless (the registry keeps the first final status). It never
 * throws: a missing events stream or a failed read is logged as a warning and the replay stops
 * there, since the live subscription still works without it.
 */
export async function replayTaskEnds(
  bus: Bus,
  endedTasks: EndedTasks,
  logger: Logger,
  options: ReplayTaskEndsOptions,
): Promise<ReplayTaskEndsSummary> {
  const windowMs = options.windowMs ?? 24 * 60 * 60 * 1000;
  const maxMessages = options.maxMessages ?? 100_000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const stream = bus.namespace.stream(Streams.events.name);
  const subject = bus.namespace.subject(Subjects.taskUpdated);
  const since = new Date(options.clock.now() - windowMs).toISOString();
  const summary: ReplayTaskEndsSummary = { read: 0, ended: 0, malformed: 0, unauthenticated: 0, cut: false };

  try {
    await readInto(bus, endedTasks, { stream, subject, since, maxMessages, timeoutMs }, summary);
  } catch (err) {
    logger.warn('task events could not be replayed; only task ends heard live will stop work', {
      ...summary,
      stream,
      since,
      error: err instanceof Error ? err.message : String(err),
    });
    return summary;
  }

  if (summary.unauthenticated > 0) {
    logger.warn('stored task events without a valid signature skipped; something without the bus key published them', { ...summary, since });
  }
  if (summary.cut) {
    logger.warn('task events replay cut short; work of tasks that ended in the unread part may still run', {
      ...summary,
      maxMessages,
      timeoutMs,
      since,
    });
  } else {
    logger.info('task events replayed', { ...summary, since });
  }
  return summary;
}

interface ReadSpec {
  stream: string;
  subject: string;
  since: string;
  maxMessages: number;
  timeoutMs: number;
}

async function readInto(bus: Bus, endedTasks: EndedTasks, spec: ReadSpec, summary: ReplayTaskEndsSummary): Promise<void> {
  const { stream, subject, since, maxMessages, timeoutMs } = spec;
  // A string, not an array: an array becomes `filter_subjects`, which needs NATS 2.10.
  const consumer = await bus.js.consumers.get(stream, { filter_subjects: subject, opt_start_time: since });
  try {
    if ((await consumer.info(true)).num_pending === 0) return;
    const messages = await consumer.consume({ max_messages: 1_000 });
    const timer = setTimeout(() => {
      summary.cut = true;
      messages.stop();
    }, timeoutMs);
    try {
      for await (const msg of messages) {
        summary.read++;
        const parsed = bus.verifyStored(msg).ok ? TaskEventSchema.safeParse(safeJson(msg.data)) : undefined;
        if (parsed === undefined) summary.unauthenticated++;
        else if (!parsed.success) summary.malformed++;
        else if (endedTasks.observe(parsed.data.taskId, parsed.data.status)) summary.ended++;
        if (msg.info.pending === 0) break;
        if (summary.read >= maxMessages) {
          summary.cut = true;
          break;
        }
      }
    } finally {
      clearTimeout(timer);
      messages.stop();
    }
  } finally {
    // Ordered consumers expire on their own after a few minutes idle; deleting is only tidier.
    await consumer.delete().catch(() => undefined);
  }
}

function safeJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch {
    return undefined;
  }
}
