/**
 * The connection every service has to NATS: reconnecting, namespaced, traced, with typed
 * publish and subscribe and the durable work consumers of `work-consumer.ts`.
 */
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { OperationalError, processRegistry, redactUrl, SpanKind, withSpan, type Logger, type Registry } from '@maestro/runtime';
import type { ZodType } from 'zod';
import { tracedHeaders } from './headers.js';
import { createNamespace, type Namespace } from './namespace.js';
import { ensureStreams, type StreamLimits } from './streams.js';
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
}

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

  constructor(
    /** The raw connection, for JetStream KV and other direct uses. */
    readonly connection: NatsConnection,
    readonly jsm: JetStreamManager,
    readonly namespace: Namespace,
    private readonly logger: Logger,
    private readonly streamLimits: StreamLimits,
    private readonly metrics: Registry = processRegistry(),
  ) {
    this.js = jetstream(connection);
  }

  /** Creates or updates every stream of the catalogue. Safe to call from every service. */
  async ensureStreams(): Promise<void> {
    await ensureStreams(this.jsm, this.streamLimits, this.namespace);
  }

  /**
   * Publishes to a JetStream stream and waits for the stream's ack, so the message is stored
   * when this resolves. Events, work and results all go this way.
   */
  async publish(subject: string, payload: unknown, options: PublishOptions = {}): Promise<void> {
    await withSpan(`nats.publish ${subject}`, { kind: SpanKind.PRODUCER }, async () => {
      const headers = tracedHeaders();
      try {
        await this.js.publish(this.namespace.subject(subject), JSON.stringify(payload), {
          headers,
          ...(options.msgId ? { msgID: options.msgId } : {}),
        });
      } catch (err) {
        throw new OperationalError('BUS_PUBLISH_FAILED', `could not publish to ${subject}: ${err instanceof Error ? err.message : String(err)}`, {
          cause: err,
        });
      }
    });
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
    const consumer = await startWorkConsumer({ js: this.js, jsm: this.jsm, namespace: this.namespace, logger: this.logger, metrics: this.metrics }, options);
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
   * Subscribes to live messages (core NATS; nothing is replayed). Payloads that fail the
   * schema are logged and skipped. `handler` gets the catalogue subject.
   */
  subscribe<T>(subject: string, schema: ZodType<T> | null, handler: (payload: T, subject: string) => void): LiveSubscription {
    const sub = this.connection.subscribe(this.namespace.subject(subject), {
      callback: (err, msg) => {
        if (err) {
          this.logger.warn('subscription error', { subject, err: err.message });
          return;
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
  const jsm = await jetstreamManager(connection);
  const bus = new Bus(connection, jsm, createNamespace(options.namespace ?? ''), logger, options.streamLimits ?? {}, options.metrics);
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
