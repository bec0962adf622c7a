/**
 * What the bus reports to Prometheus: dead letters by consumer and reason, live messages a
 * subscription dropped for their signature (by subscription and reason), and each durable
 * work consumer's lag and depth (read from JetStream's consumer info on scrape; see
 * `trackConsumerBacklog` in @maestro/runtime). Every consumer the bus starts is tracked, so a
 * service gets its queue metrics without wiring anything.
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import { defineCounter, trackConsumerBacklog, type Counter, type Registry } from '@maestro/runtime';

/** Why a message was dead-lettered, as the `reason` label of `maestro_dead_letters_total`. */
export const DeadLetterReasons = {
  /** The payload did not parse or failed its schema. */
  malformed: 'malformed',
  /** The handler refused it for good (a `UserError`). */
  rejected: 'rejected',
  /** Every delivery failed. */
  exhausted: 'exhausted',
  /** A control message without a valid, fresh signature (see message-signing.ts). */
  unauthenticated: 'unauthenticated',
} as const;
export type DeadLetterReason = (typeof DeadLetterReasons)[keyof typeof DeadLetterReasons];

/** The dead-letter counter of `registry`. */
export function deadLetterCounter(registry: Registry): Counter<'consumer' | 'reason'> {
  return defineCounter(registry, {
    name: 'maestro_dead_letters_total',
    help: 'Messages sent to the dead-letter subject, by durable consumer and reason (malformed, rejected, exhausted, unauthenticated).',
    labelNames: ['consumer', 'reason'],
  });
}

/**
 * The counter of live (core-NATS) messages a subscription dropped because they failed signature
 * verification, by the subscription's catalogue subject and the rejection in lower case
 * (`unsigned`, `bad_signature`, `stale`, `replayed`); see message-signing.ts.
 */
export function liveRejectionCounter(registry: Registry): Counter<'subscription' | 'reason'> {
  return defineCounter(registry, {
    name: 'maestro_live_messages_rejected_total',
    help: 'Live NATS messages dropped by a subscription for failing signature verification, by subscription subject and reason (unsigned, bad_signature, stale, replayed).',
    labelNames: ['subscription', 'reason'],
  });
}

/**
 * Reports the lag and depth of durable `consumer` on `stream` (server names, namespace
 * included) on every scrape of `registry`; returns the function that stops it.
 */
export function trackWorkConsumer(registry: Registry, jsm: JetStreamManager, stream: string, consumer: string): () => void {
  return trackConsumerBacklog(registry, {
    stream,
    consumer,
    read: async () => {
      const info = await jsm.consumers.info(stream, consumer);
      return { pending: info.num_pending, ackPending: info.num_ack_pending };
    },
  });
}
