/**
 * The connection every service has to NATS: reconnecting, namespaced, traced, with typed
 * publish and subscribe and the durable work consumers of `work-consumer.ts`. With a signing key
 * every publish (JetStream or core NATS) is signed and every live subscription verifies.
 */
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { OperationalError, processRegistry, processSecrets, redactUrl, SpanKind, systemClock, withSpan, type Clock, type Logger, type Redactor, type Registry } from '@maestro/runtime';
import type { ZodType } from 'zod';
import { tracedHeaders } from './headers.js';
import { type BusSigning } from './bus-signing.js';
import { liveRejectionCounter } from './bus-metrics.js';
import { LiveRejections } from './live-rejections.js';
import { DEDUP_HEADER, MessageSigner, MessageSigningDefaults, type SignatureVerdict } from './message-signing.js';
import { createNamespace, type Namespace } from './namespace.js';
import { duplicateWindowFor, ensureStreams, type StreamLimits } from './streams.js';
import { startWorkConsumer, type WorkConsumer, type WorkConsumerOptions } from './work-consumer.js';

/** Options for {@link connectBus}. */
export interface BusOptions {
  /** NATS server URL(s), comma-separated. */
  url: string;
  /** Connection name shown by the server (`nats server report connections`). */
  name: string;
  logger: Logger;
  /** Prefix for every subject, stream and consumer (see namespace.ts). @default '' */
  namespace?: string;
  /** Limits applied by `ensureStreams`. */
  streamLimits?: StreamLimits;
  /** Where consumers report dead letters, lag and depth. @default processRegistry() */
  metrics?: Registry;
  /**
   * Redacts every payload before it is published (events, steps, work, results), so a secret a
   * tool printed never reaches the stream or a subscriber. @default processSecrets()
   */
  redactor?: Redactor;
  /**
   * Signs every publish and makes durable consumers of control streams (work, results,
   * escalations) and every live subscription verify what they receive (see message-signing.ts);
   * from `busSigningFrom(config)`.
   * @default unsigned, silently (libraries and tests); services always pass it
   */
  signing?: BusSigning;
  /** Where signing times and the pace of rejection warnings come from. @default systemClock */
  clock?: Clock;
  /**
   * How long a JetStream API request or a publish waits for the server's answer.
   * @default BusDefaults.apiTimeoutMs
   */
  apiTimeoutMs?: number;
}

/** The defaults of {@link BusOptions}. */
export const BusDefaults = {
  /**
   * nats.js's own 5 s. Longer is not kinder: a request sent while NATS was down gets no answer
   * and waits this long even after NATS is back, so a service answers its caller that much
   * later (seen: submissions timing out at the gateway's client after a NATS restart with 15 s).
   * A test that reads streams from a busy machine may pass more.
   */
  apiTimeoutMs: 5_000,
} as const;

/** Options for a publish. */
export interface PublishOptions {
  /** JetStream de-duplication id (`Nats-Msg-Id`); use the payload's workId for work and results. */
  msgId?: string;
}

/** A live (non-durable) subscription. */
export interface LiveSubscription {
  unsubscribe(): void;
}

/** One process's link to NATS. */
export class Bus {
  readonly js: JetStreamClient;
  private readonly consumers = new Set<WorkConsumer>();
  private readonly subscriptions = new Set<Subscription>();
  /** Numbers this bus's subscriptions, for live replay detection (see `MessageSigner.verifyLive`). */
  private subscriptionCount = 0;
  private readonly liveRejections: LiveRejections;

  constructor(
    /** The raw connection, for JetStream KV and other direct uses. */
    readonly connection: NatsConnection,
    readonly jsm: JetStreamManager,
    readonly namespace: Namespace,
    private readonly logger: Logger,
    private readonly streamLimits: StreamLimits,
    private readonly metrics: Registry = processRegistry(),
    private readonly redactor: Redactor = processSecrets(),
    /** Signs publishes and verifies control and live messages; undefined when the bus runs unsigned. */
    private readonly signer?: MessageSigner,
    clock: Clock = systemClock,
  ) {
    // The manager's options (its API timeout) for publishes and KV too.
    this.js = jetstream(connection, jsm.getOptions());
    this.liveRejections = new LiveRejections({ logger, counter: liveRejectionCounter(metrics), clock });
  }

  /**
   * Creates or updates every stream of the catalogue. Safe to call from every service. The
   * duplicate window follows this bus's signing window (`duplicateWindowFor`) unless the stream
   * limits set one.
   */
  async ensureStreams(): Promise<void> {
    const duplicateWindowMs = this.streamLimits.duplicateWindowMs ?? duplicateWindowFor(this.signer?.windowMs ?? MessageSigningDefaults.windowMs);
    await ensureStreams(this.jsm, { ...this.streamLimits, duplicateWindowMs }, this.namespace);
  }

  /**
   * Publishes to a JetStream stream and waits for the stream's ack, so the message is stored
   * when this resolves. Events, work and results all go this way, redacted (see
   * {@link BusOptions.redactor}): the JSON text is redacted as a whole, and the marker needs no
   * escaping, so the payload stays valid JSON with each secret replaced inside its string.
   */
  async publish(subject: string, payload: unknown, options: PublishOptions = {}): Promise<void> {
    await withSpan(`nats.publish ${subject}`, { kind: SpanKind.PRODUCER }, async () => {
      const headers = tracedHeaders();
      const wireSubject = this.namespace.subject(subject);
      const body = this.encode(payload);
      // Set before signing: the signature covers the deduplication id (see MessageSigner).
      if (options.msgId) headers.set(DEDUP_HEADER, options.msgId);
      this.signer?.sign(wireSubject, body, headers);
      try {
        await this.js.publish(wireSubject, body, { headers });
      } catch (err) {
        throw new OperationalError('BUS_PUBLISH_FAILED', `could not publish to ${subject}: ${err instanceof Error ? err.message : String(err)}`, {
          cause: err,
        });
      }
    });
  }

  /**
   * Publishes on core NATS without waiting for anything (the stream, if one covers the subject,
   * still stores it): for events only live watchers need, where a publish must not wait on
   * JetStream. Redacted, traced and signed like {@link publish}. Throws only when the connection
   * is closed.
   */
  publishLive(subject: string, payload: unknown): void {
    const headers = tracedHeaders();
    const wireSubject = this.namespace.subject(subject);
    const body = this.encode(payload);
    this.signer?.sign(wireSubject, body, headers);
    this.connection.publish(wireSubject, body, { headers });
  }

  /**
   * The text a publish sends for `payload`: its JSON, redacted. Use {@link publishLive} to send
   * past `publish`, which signs as well.
   */
  encode(payload: unknown): string {
    return this.redactor.redact(JSON.stringify(payload));
  }

  /**
   * Verifies a message read from a stream outside {@link consume} (an ordered consumer, a
   * replay), as a durable consumer of a control stream would: always ok on an unsigned bus.
   */
  verifyStored(msg: JsMsg): SignatureVerdict {
    return this.signer ? this.signer.verifyStored(msg) : { ok: true };
  }

  /** Publishes a fact on `maestro.events.…`. A failure is logged, not thrown: events are best-effort. */
  async publishEvent(subject: string, payload: unknown): Promise<void> {
    try {
      await this.publish(subject, payload);
    } catch (err) {
      this.logger.warn('event not published', { subject, err: err instanceof Error ? err.message : String(err) });
    }
  }

  /** Starts a durable work consumer; it is stopped by `close()` if not before. */
  async consume<T>(options: WorkConsumerOptions<T>): Promise<WorkConsumer> {
    const consumer = await startWorkConsumer(
      { js: this.js, jsm: this.jsm, namespace: this.namespace, logger: this.logger, metrics: this.metrics, ...(this.signer ? { signer: this.signer } : {}) },
      options,
    );
    this.consumers.add(consumer);
    return {
      get inFlight() {
        return consumer.inFlight;
      },
      stop: async () => {
        this.consumers.delete(consumer);
        await consumer.stop();
      },
    };
  }

  /**
   * Subscribes to live messages (core NATS; nothing is replayed). On a signed bus each message
   * is verified first (`MessageSigner.verifyLive`): one that is unsigned, forged, tampered, stale
   * or replayed is dropped, counted in `maestro_live_messages_rejected_total` and warned about
   * (rate-limited, see live-rejections.ts). Payloads that fail the schema are logged and
   * skipped. `handler` gets the catalogue subject.
   */
  subscribe<T>(subject: string, schema: ZodType<T> | null, handler: (payload: T, subject: string) => void): LiveSubscription {
    const signer = this.signer;
    const subscriptionId = `live-${++this.subscriptionCount}`;
    const sub = this.connection.subscribe(this.namespace.subject(subject), {
      callback: (err, msg) => {
        if (err) {
          this.logger.warn('subscription error', { subject, err: err.message });
          return;
        }
        if (signer) {
          const verdict = signer.verifyLive(msg.subject, msg.data, msg.headers, subscriptionId);
          if (!verdict.ok) {
            this.liveRejections.record(subject, msg.subject, verdict.rejection, verdict.reason);
            return;
          }
        }
        let payload: T;
        try {
          const raw: unknown = msg.json();
          payload = schema ? schema.parse(raw) : (raw as T);
        } catch (parseErr) {
          this.logger.warn('malformed message skipped', {
            subject: msg.subject,
            err: parseErr instanceof Error ? parseErr.message : String(parseErr),
          });
          return;
        }
        try {
          handler(payload, this.namespace.unprefix(msg.subject));
        } catch (handlerErr) {
          this.logger.error('subscriber failed', { subject: msg.subject, err: handlerErr instanceof Error ? handlerErr.message : String(handlerErr) });
        }
      },
    });
    this.subscriptions.add(sub);
    return {
      unsubscribe: () => {
        this.subscriptions.delete(sub);
        sub.unsubscribe();
      },
    };
  }

  /** True while connected (false while reconnecting or after close). */
  get connected(): boolean {
    return !this.connection.isClosed() && this.connectedNow;
  }

  /** @internal updated from the connection's status stream */
  connectedNow = true;

  /** Stops consumers (finishing in-flight work), then drains and closes the connection. */
  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.stop()));
    this.consumers.clear();
    for (const sub of this.subscriptions) sub.unsubscribe();
    this.subscriptions.clear();
    if (!this.connection.isClosed()) await this.connection.drain();
  }
}

/** Connects to NATS (retrying forever after the first success) and returns the bus. */
export async function connectBus(options: BusOptions): Promise<Bus> {
  const logger = options.logger.child({ component: 'bus' });
  let connection: NatsConnection;
  try {
    connection = await connect({
      servers: options.url.split(',').map((s) => s.trim()),
      name: options.name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
      waitOnFirstConnect: false,
      // nats.js builds an Error with a stack trace per request to point at the caller when one
      // fails; that was a quarter of an executor's CPU under load. Our errors say what failed.
      noAsyncTraces: true,
    });
  } catch (err) {
    // Node's "Invalid URL" TypeError carries the URL it refused, password and all, in `input`.
    const refused = err as { input?: unknown } | null;
    if (typeof refused?.input === 'string') refused.input = redactUrl(refused.input);
    throw new OperationalError('NATS_UNREACHABLE', `cannot connect to NATS at ${redactUrl(options.url)}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  const jsm = await jetstreamManager(connection, { timeout: options.apiTimeoutMs ?? BusDefaults.apiTimeoutMs });
  const signing = options.signing;
  const clock = options.clock ?? systemClock;
  const signer =
    signing && 'key' in signing ? new MessageSigner({ key: signing.key, signer: options.name, clock, ...(signing.windowMs ? { windowMs: signing.windowMs } : {}) }) : undefined;
  if (signing && 'unsigned' in signing) {
    logger.warn('NATS messages are NOT signed or verified (MAESTRO_BUS_UNSIGNED=true): anyone who can publish on NATS can forge results and events; local runs only');
  }
  const bus = new Bus(connection, jsm, createNamespace(options.namespace ?? ''), logger, options.streamLimits ?? {}, options.metrics, options.redactor, signer, clock);
  void (async () => {
    for await (const status of connection.status()) {
      if (status.type === 'disconnect') {
        bus.connectedNow = false;
        logger.warn('nats disconnected');
      } else if (status.type === 'reconnect') {
        bus.connectedNow = true;
        logger.info('nats reconnected');
      }
    }
  })();
  logger.info('nats connected', { server: redactUrl(connection.getServer()), namespace: options.namespace ?? '' });
  return bus;
}
