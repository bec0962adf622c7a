/**
 * The executor's idempotency record in a JetStream KV bucket: finished outcomes keyed by work id,
 * each a `SubtaskResult` or an `Escalation` (stored as the message itself; an escalation is told
 * apart by its `escalationId`, so records written before escalations existed still read). Every
 * executor replica shares the bucket, so whichever replica gets a redelivered work item finds the
 * outcome of the one that did the work.
 */
import { Kvm, type KV } from '@nats-io/kv';
import { EscalationSchema, SubtaskResultSchema } from '@maestro/contracts';
import { OperationalError, UnexpectedError } from '@maestro/runtime';
import { isEscalation, type WorkOutcome } from '../domain/escalation.js';
import { toResultKey } from '../domain/result-key.js';
import type { WorkResultStore } from '../domain/ports.js';

/** The bucket every executor shares. */
export const WORK_RESULTS_BUCKET = 'maestro_work_results';

/**
 * How long results are kept. Far beyond any redelivery (work is acked or dead-lettered within
 * maxDeliver × ackWait) and any orchestrator retry of the same attempt, yet not forever.
 */
export const WORK_RESULTS_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/** What the bucket is opened over: a NATS connection or a JetStream client. */
export type KvConnection = ConstructorParameters<typeof Kvm>[0];

/** Options for {@link KvWorkResultStore.open}. */
export interface KvWorkResultStoreOptions {
  /** @default WORK_RESULTS_BUCKET */
  bucket?: string;
  /** @default WORK_RESULTS_TTL_MS */
  ttlMs?: number;
}

/** A {@link WorkResultStore} over a JetStream KV bucket. */
export class KvWorkResultStore implements WorkResultStore {
  private constructor(
    private readonly kv: KV,
    /** The bucket's name. */
    readonly bucket: string,
  ) {}

  /** Opens the bucket, creating it when it does not exist (idempotent; every replica calls it at start). */
  static async open(connection: KvConnection, options: KvWorkResultStoreOptions = {}): Promise<KvWorkResultStore> {
    const bucket = options.bucket ?? WORK_RESULTS_BUCKET;
    try {
      const kv = await new Kvm(connection).create(bucket, { history: 1, ttl: options.ttlMs ?? WORK_RESULTS_TTL_MS });
      return new KvWorkResultStore(kv, bucket);
    } catch (err) {
      throw new OperationalError('WORK_RESULTS_UNAVAILABLE', `could not open KV bucket ${bucket}: ${message(err)}`, {
        cause: err,
      });
    }
  }

  async get(workId: string): Promise<WorkOutcome | undefined> {
    let entry: Awaited<ReturnType<KV['get']>>;
    try {
      entry = await this.kv.get(toResultKey(workId));
    } catch (err) {
      throw new OperationalError('WORK_RESULTS_UNAVAILABLE', `could not read the result of ${workId}: ${message(err)}`, {
        cause: err,
      });
    }
    if (entry === null || entry.operation !== 'PUT') return undefined;
    let data: unknown;
    try {
      data = entry.json();
    } catch (err) {
      throw new UnexpectedError('WORK_RESULT_CORRUPT', `the stored result of ${workId} is not JSON`, { cause: err });
    }
    const escalation = typeof data === 'object' && data !== null && 'escalationId' in data;
    const parsed = escalation ? EscalationSchema.safeParse(data) : SubtaskResultSchema.safeParse(data);
    if (!parsed.success) {
      throw new UnexpectedError('WORK_RESULT_CORRUPT', `the stored result of ${workId} is not ${escalation ? 'an Escalation' : 'a SubtaskResult'}`, {
        details: { issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) },
      });
    }
    return parsed.data;
  }

  async put(outcome: WorkOutcome): Promise<void> {
    const workId = isEscalation(outcome) ? outcome.escalationId : outcome.workId;
    try {
      await this.kv.put(toResultKey(workId), JSON.stringify(outcome));
    } catch (err) {
      throw new OperationalError('WORK_RESULTS_UNAVAILABLE', `could not store the result of ${workId}: ${message(err)}`, {
        cause: err,
      });
    }
  }

  /** Deletes the bucket and everything in it; for tests that made their own bucket. */
  async destroy(): Promise<void> {
    await this.kv.destroy();
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
