/**
 * NATS and JetStream for CodeMaestro: one reconnecting connection per process, the streams of
 * the subject catalogue created idempotently, traced publishes, live subscriptions, and
 * durable work consumers with explicit ack, bounded redelivery and a dead-letter subject.
 *
 * @example
 * const bus = await connectBus({ url: config.natsUrl, name: 'executor', logger });
 * await bus.ensureStreams();
 * await bus.consume({
 *   stream: Streams.work.name, durable: Consumers.executorWork, filterSubject: Subjects.workQueue('executor'),
 *   schema: SubtaskWorkSchema, concurrency: 2,
 *   handler: async (work, delivery) => { ... },
 * });
 *
 * Services pass `signing: busSigningFrom(config)`: every publish is then signed and the consumers
 * of work, results and escalations refuse (dead-letter) what is unsigned, forged or replayed, and
 * live subscriptions (`subscribe`) drop it.
 */
export { Bus, BusDefaults, connectBus, type BusOptions, type PublishOptions, type LiveSubscription } from './bus.js';
export {
  startWorkConsumer,
  HandBackError,
  describeParseError,
  type WorkConsumer,
  type WorkConsumerOptions,
  type DeliveryContext,
  type DeadLetter,
  ControlStreams,
} from './work-consumer.js';
export {
  MessageSigner,
  SignatureHeaders,
  SignatureRejections,
  DEDUP_HEADER,
  MessageSigningDefaults,
  MIN_SIGNING_KEY_BYTES,
  type MessageSigningOptions,
  type SignatureRejection,
  type SignatureVerdict,
} from './message-signing.js';
export { busSigningFrom, type BusSigning, type BusSigningConfig } from './bus-signing.js';
export { deadLetterCounter, liveRejectionCounter, trackWorkConsumer, DeadLetterReasons, type DeadLetterReason } from './bus-metrics.js';
export { ensureStreams, StreamDefaults, toStreamConfig, type StreamLimits } from './streams.js';
export { createNamespace, rootNamespace, type Namespace } from './namespace.js';
export { tracedHeaders, traceContextOf, headerCarrier } from './headers.js';
export { isPermanentPublishError } from './permanent-publish-error.js';
