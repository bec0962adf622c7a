/**
 * JetStream stream set-up: the streams of the subject catalogue, created or updated
 * idempotently by every service at start, so any service can come up first.
 */
import { RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { Streams, type StreamSpec } from '@maestro/contracts';
import { MessageSigningDefaults } from './message-signing.js';
import { rootNamespace, type Namespace } from './namespace.js';

/** Per-stream limits; the defaults suit one cluster's worth of work. */
export interface StreamLimits {
  /** How long events and dead letters are kept. @default StreamDefaults.eventsMaxAgeMs (7 days) */
  eventsMaxAgeMs?: number;
  /** Window in which a repeated `Nats-Msg-Id` is dropped. @default StreamDefaults.duplicateWindowMs (10 minutes) */
  duplicateWindowMs?: number;
  /** File (durable) or memory storage. @default 'file' */
  storage?: 'file' | 'memory';
  /** Replicas per stream (a clustered production NATS uses 3). @default 1 */
  replicas?: number;
}

/**
 * The defaults of {@link StreamLimits}. The duplicate window is twice the signing window
 * (`MessageSigningDefaults.windowMs`) because it is what stops a captured signed message
 * published again (see `message-signing.ts`): a copy within the window is dropped by the server
 * as a repeated `Nats-Msg-Id`, one after it is refused as stale, whatever the signer's clock skew
 * (up to the signing window). It is also the window of the publishers' idempotency ids (a work
 * item published twice by a restarted orchestrator is stored once).
 */
export const StreamDefaults = {
  eventsMaxAgeMs: 7 * 24 * 60 * 60 * 1000,
  duplicateWindowMs: duplicateWindowFor(MessageSigningDefaults.windowMs),
} as const;

/** The duplicate window that makes a replay of a message signed with `signingWindowMs` dropped or stale (see {@link StreamDefaults}). */
export function duplicateWindowFor(signingWindowMs: number): number {
  return 2 * signingWindowMs;
}

/** The JetStream config for one stream of the catalogue. */
export function toStreamConfig(spec: StreamSpec, limits: StreamLimits = {}, namespace: Namespace = rootNamespace): Partial<StreamConfig> & { name: string } {
  const isLimits = spec.retention === 'limits';
  return {
    name: namespace.stream(spec.name),
    subjects: spec.subjects.map((s) => namespace.subject(s)),
    retention: isLimits ? RetentionPolicy.Limits : RetentionPolicy.Workqueue,
    storage: limits.storage === 'memory' ? StorageType.Memory : StorageType.File,
    num_replicas: limits.replicas ?? 1,
    duplicate_window: nanos(limits.duplicateWindowMs ?? StreamDefaults.duplicateWindowMs),
    max_age: isLimits ? nanos(limits.eventsMaxAgeMs ?? StreamDefaults.eventsMaxAgeMs) : 0,
  };
}

/** Creates each stream, or updates it when it exists with another config. */
export async function ensureStreams(jsm: JetStreamManager, limits: StreamLimits = {}, namespace: Namespace = rootNamespace): Promise<void> {
  for (const spec of Object.values(Streams)) {
    const config = toStreamConfig(spec, limits, namespace);
    try {
      await jsm.streams.info(config.name);
      await jsm.streams.update(config.name, config);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await jsm.streams.add(config);
    }
  }
}

function isNotFound(err: unknown): boolean {
  return err instanceof Error && /not found/i.test(err.message);
}
