/**
 * What a live subscription does with a message that fails signature verification besides
 * dropping it: counts it (`maestro_live_messages_rejected_total`) and says so at warn, once per
 * subscription and reason and then at most once per interval with the number dropped since, so a
 * hostile publisher flooding a subject cannot flood the logs too.
 */
import type { Clock, Counter, Logger } from '@maestro/runtime';
import type { SignatureRejection } from './message-signing.js';

/** Options for {@link LiveRejections}. */
export interface LiveRejectionsOptions {
  logger: Logger;
  /** From `liveRejectionCounter(registry)`. */
  counter: Counter<'subscription' | 'reason'>;
  clock: Clock;
  /** Shortest time between two warnings for one subscription and reason. @default 60000 */
  intervalMs?: number;
}

/** The defaults of {@link LiveRejectionsOptions}. */
export const LiveRejectionsDefaults = { intervalMs: 60_000 } as const;

/** Counts and (rate-limited) logs the live messages a bus's subscriptions refused. */
export class LiveRejections {
  private readonly intervalMs: number;
  /** `subscription\nrejection` → when it was last logged and how many were dropped since. */
  private readonly logged = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly options: LiveRejectionsOptions) {
    this.intervalMs = options.intervalMs ?? LiveRejectionsDefaults.intervalMs;
  }

  /** Records that `subscription` (its catalogue subject) dropped a message on wire subject `subject`. */
  record(subscription: string, subject: string, rejection: SignatureRejection, reason: string): void {
    this.options.counter.inc({ subscription, reason: rejection.toLowerCase() });
    const now = this.options.clock.now();
    const key = `${subscription}\n${rejection}`;
    const last = this.logged.get(key);
    if (last !== undefined && now - last.at < this.intervalMs) {
      last.suppressed++;
      return;
    }
    this.logged.set(key, { at: now, suppressed: 0 });
    this.options.logger.warn('live message dropped: signature not valid', {
      subscription,
      subject,
      rejection,
      reason,
      // Dropped for the same reason since the last warning and not logged one by one.
      droppedSinceLastWarning: last?.suppressed ?? 0,
    });
  }
}
