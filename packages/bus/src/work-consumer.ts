/**
 * A durable JetStream pull consumer with the delivery rules every maestro worker shares:
 * explicit ack, a bounded number of deliveries, in-progress signals while a handler runs,
 * nak with backoff for transient failures, and a dead-letter subject for what cannot be
 * processed. A malformed payload is dead-lettered at once and never reaches the handler.
 */
import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { DeadLetterHeaders, Streams, Subjects } from '@maestro/contracts';
import { exponentialBackoff, OperationalError, processRegistry, SpanKind, toMaestroError, traceIdOf, UserError, withSpan, type Logger, type Registry } from '@maestro/runtime';
import { ZodError, type ZodType } from 'zod';
import { deadLetterCounter, DeadLetterReasons, trackWorkConsumer, type DeadLetterReason } from './bus-metrics.js';
import { traceContextOf, tracedHeaders } from './headers.js';
import { SignatureHeaders, type MessageSigner } from './message-signing.js';
import type { Namespace } from './namespace.js';

/**
 * Thrown by a handler that gives work back without having failed at it (its process is
 * shutting down). The work is redelivered at once, and a hand-back never uses up the work's
 * last delivery: on the last one the message is re-published as a fresh message, so rolling
 * restarts cannot turn healthy work into dead letters.
 */
export class HandBackError extends OperationalError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('WORK_HANDED_BACK', message, options);
  }
}

/** What a handler knows about the message it is processing. */
export interface DeliveryContext {
  /** The catalogue subject (namespace removed). */
  subject: string;
  /** 1 on first delivery. */
  deliveryCount: number;
  /** Tells JetStream the work is still in progress (resets the ack timer). Sent automatically too. */
  working(): void;
  logger: Logger;
}

/** Why a message went to the dead-letter subject. */
export interface DeadLetter {
  subject: string;
  reason: string;
  deliveries: number;
  /** The parsed payload when it parsed, else undefined. */
  payload: unknown;
  raw: string;
}

/** Options for {@link startWorkConsumer}. */
export interface WorkConsumerOptions<T> {
  /** Catalogue name of the stream (namespace added by the bus). */
  stream: string;
  /** Catalogue name of the durable consumer. */
  durable: string;
  filterSubject: string;
  schema: ZodType<T>;
  handler: (payload: T, delivery: DeliveryContext) => Promise<void>;
  /**
   * Attributes for the message's consume span, from its parsed payload (say, the task it works
   * for), so the span can be found by what it did.
   */
  spanAttributes?: (payload: T) => Record<string, string | number | boolean>;
  /** Called after a message is dead-lettered, e.g. to publish a failed result. */
  onDeadLetter?: (deadLetter: DeadLetter) => Promise<void>;
  /** Deliveries before dead-lettering. @default 5 */
  maxDeliver?: number;
  /** How long a delivery may go without ack or progress before redelivery. @default 30000 */
  ackWaitMs?: number;
  /** Messages processed at once by this process. @default 1 */
  concurrency?: number;
  /** Delay before redelivery after the n-th failed delivery. @default 250ms·2^(n-1), at most 10s */
  backoffMs?: (deliveryCount: number) => number;
  /**
   * Verify each message's signature before the handler sees it (when the bus has a signing key):
   * a message that fails is dead-lettered with its rejection (`UNSIGNED`, `BAD_SIGNATURE`,
   * `STALE`, `REPLAYED`) and `onDeadLetter` is NOT called, since nothing it says can be trusted.
   * @default true on the control streams (work, results, escalations), false on events
   */
  authenticate?: boolean;
}

/** The streams whose messages make services act: their consumers verify signatures by default. */
export const ControlStreams: ReadonlySet<string> = new Set([Streams.work.name, Streams.results.name, Streams.escalations.name]);

/** A running consumer. */
export interface WorkConsumer {
  /** Stops pulling, hands undelivered messages back, and waits for handlers in flight. */
  stop(): Promise<void>;
  /** Messages being handled right now. */
  readonly inFlight: number;
}

/** Header values are single lines. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

/** A zod failure as `path: problem; path: problem`, or the error's message. */
export function describeParseError(err: unknown): string {
  if (err instanceof ZodError) {
    return err.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
  }
  return err instanceof Error ? err.message : String(err);
}

const defaultBackoff = exponentialBackoff({ baseMs: 250, maxMs: 10_000 });

/** Creates (idempotently) the durable consumer and starts handling its messages. */
export async function startWorkConsumer<T>(
  deps: { js: JetStreamClient; jsm: JetStreamManager; namespace: Namespace; logger: Logger; metrics?: Registry; signer?: MessageSigner },
  options: WorkConsumerOptions<T>,
): Promise<WorkConsumer> {
  const { js, jsm, namespace } = deps;
  const metrics = deps.metrics ?? processRegistry();
  const stream = namespace.stream(options.stream);
  const durable = namespace.consumer(options.durable);
  const maxDeliver = options.maxDeliver ?? 5;
  const ackWaitMs = options.ackWaitMs ?? 30_000;
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const backoff = options.backoffMs ?? defaultBackoff;
  const logger = deps.logger.child({ consumer: options.durable });
  const verifier = (options.authenticate ?? ControlStreams.has(options.stream)) ? deps.signer : undefined;

  const config = {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: namespace.subject(options.filterSubject),
    // One more than ours so that our own dead-lettering, not the server's silent drop, ends a message.
    max_deliver: maxDeliver + 1,
    ack_wait: nanos(ackWaitMs),
    max_ack_pending: Math.max(1000, concurrency * 4),
  };
  try {
    await jsm.consumers.info(stream, durable);
    await jsm.consumers.update(stream, durable, {
      ack_wait: config.ack_wait,
      max_deliver: config.max_deliver,
      max_ack_pending: config.max_ack_pending,
    });
  } catch (err) {
    if (!(err instanceof Error && /not found/i.test(err.message))) throw err;
    await jsm.consumers.add(stream, config);
  }

  const consumer = await js.consumers.get(stream, durable);
  let stopping = false;
  let inFlight = 0;
  let batch: ConsumerMessages | undefined;
  const slotWaiters: Array<() => void> = [];
  const idleWaiters: Array<() => void> = [];

  const deadLetters = deadLetterCounter(metrics);
  const untrack = trackWorkConsumer(metrics, jsm, stream, durable);

  const deadLetter = async (msg: JsMsg, kind: DeadLetterReason, reason: string, payload: unknown, trusted = true): Promise<void> => {
    const subject = namespace.unprefix(msg.subject);
    const headers = tracedHeaders();
    headers.set(DeadLetterHeaders.originalSubject, subject);
    headers.set(DeadLetterHeaders.reason, oneLine(reason).slice(0, 1000));
    headers.set(DeadLetterHeaders.deliveries, String(msg.info.deliveryCount));
    const deadSubject = namespace.subject(Subjects.deadLetter(subject));
    // Signed like every publish of a keyed bus: it vouches that this service dead-lettered the
    // bytes (on the dead-letter subject only, which the signature covers), not for what they say.
    deps.signer?.sign(deadSubject, msg.data, headers);
    await js.publish(deadSubject, msg.data, { headers });
    deadLetters.inc({ consumer: options.durable, reason: kind });
    logger.warn('message dead-lettered', { subject, reason, deliveries: msg.info.deliveryCount });
    if (trusted && options.onDeadLetter) {
      await options.onDeadLetter({ subject, reason, deliveries: msg.info.deliveryCount, payload, raw: msg.string() });
    }
    // No reason argument: NATS servers before 2.10.4 ignore a term that carries one, leaving the
    // message pending. The reason is in the dead letter's headers.
    msg.term();
  };

  const handle = async (msg: JsMsg): Promise<void> => {
    const subject = namespace.unprefix(msg.subject);
    const deliveryCount = msg.info.deliveryCount;
    await withSpan(`nats.consume ${subject}`, { kind: SpanKind.CONSUMER, parent: traceContextOf(msg.headers) }, async (span) => {
      const log = logger.child({ subject, deliveryCount, traceId: traceIdOf(span) });
      if (verifier) {
        const verdict = verifier.verifyStored(msg);
        if (!verdict.ok) {
          await deadLetter(msg, DeadLetterReasons.unauthenticated, `${verdict.rejection}: ${verdict.reason}`, undefined, false);
          return;
        }
      }
      let payload: T;
      try {
        payload = options.schema.parse(msg.json());
        if (options.spanAttributes) span.setAttributes(options.spanAttributes(payload));
      } catch (err) {
        await deadLetter(msg, DeadLetterReasons.malformed, `malformed payload: ${describeParseError(err)}`, undefined);
        return;
      }
      if (deliveryCount > maxDeliver) {
        await deadLetter(msg, DeadLetterReasons.exhausted, `gave up after ${maxDeliver} deliveries`, payload);
        return;
      }
      // Progress signals are best-effort: on a closing or draining connection they throw, and a
      // throw from a timer would take the process down.
      const working = (): void => {
        try {
          msg.working();
        } catch {
          // the ack timer runs on; redelivery covers the rest
        }
      };
      const heartbeat = setInterval(working, Math.max(100, Math.floor(ackWaitMs / 3)));
      try {
        await options.handler(payload, { subject, deliveryCount, working, logger: log });
        msg.ack();
      } catch (err) {
        const error = toMaestroError(err);
        if (error instanceof HandBackError) {
          log.info('work handed back', { reason: error.message });
          if (deliveryCount >= maxDeliver) {
            // A fresh copy: without the original Nats-Msg-Id, which the stream would drop as a
            // duplicate inside its window (and the ack below would then lose the work).
            const headers = tracedHeaders();
            const signatureHeaders = new Set<string>(Object.values(SignatureHeaders));
            for (const [key, values] of msg.headers ?? []) {
              if (key.toLowerCase() === 'nats-msg-id' || key === 'traceparent' || key === 'tracestate' || signatureHeaders.has(key)) continue;
              for (const value of values) headers.append(key, value);
            }
            // Signed afresh: the copy is stored now, maybe long after the original was signed.
            deps.signer?.sign(msg.subject, msg.data, headers);
            await js.publish(msg.subject, msg.data, { headers });
            msg.ack();
          } else {
            msg.nak();
          }
        } else if (error instanceof UserError) {
          await deadLetter(msg, DeadLetterReasons.rejected, `${error.code}: ${error.message}`, payload);
        } else if (deliveryCount >= maxDeliver) {
          // An unexpected error's message is internal (driver text, a bug's details): the
          // reason travels on to users in failed results, so it names only the code.
          const last = error instanceof OperationalError ? `${error.code}: ${error.message}` : error.code;
          log.error('giving up on message', { code: error.code, message: error.message, deliveries: deliveryCount });
          await deadLetter(msg, DeadLetterReasons.exhausted, `failed ${deliveryCount} times; last error ${last}`, payload);
        } else {
          const delay = backoff(deliveryCount);
          (error instanceof OperationalError ? log.warn : log.error).call(log, 'handler failed; will retry', {
            code: error.code,
            message: error.message,
            retryInMs: delay,
          });
          msg.nak(delay);
        }
      } finally {
        clearInterval(heartbeat);
      }
    });
  };

  const settle = (msg: JsMsg): void => {
    inFlight++;
    void handle(msg)
      .catch((err: unknown) => {
        // Only reachable when publishing the dead letter itself failed: leave the message
        // unacked so JetStream redelivers it after ack_wait.
        logger.error('could not settle message', { err: err instanceof Error ? err.message : String(err) });
      })
      .finally(() => {
        inFlight--;
        slotWaiters.shift()?.();
        if (inFlight === 0) idleWaiters.splice(0).forEach((w) => w());
      });
  };

  // Pull only as many messages as there are free slots: a message waiting in a client-side
  // buffer has its ack timer running with nobody signalling progress, and would be redelivered
  // to another replica while this one still holds it.
  const loop = (async () => {
    while (!stopping) {
      while (inFlight >= concurrency && !stopping) await new Promise<void>((r) => slotWaiters.push(r));
      if (stopping) break;
      try {
        batch = await consumer.fetch({ max_messages: concurrency - inFlight, expires: 5_000 });
        for await (const msg of batch) {
          if (stopping) {
            msg.nak();
            continue;
          }
          settle(msg);
        }
      } catch (err) {
        if (stopping) break;
        logger.warn('pull failed; retrying', { err: err instanceof Error ? err.message : String(err) });
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  })();

  return {
    get inFlight() {
      return inFlight;
    },
    async stop() {
      stopping = true;
      untrack();
      slotWaiters.splice(0).forEach((w) => w());
      await batch?.close();
      await loop.catch(() => undefined);
      if (inFlight > 0) await new Promise<void>((r) => idleWaiters.push(r));
    },
  };
}
