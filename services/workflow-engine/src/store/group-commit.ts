/**
 * Group commit: writes that arrive while a commit is in flight are written **together**, in one
 * transaction (one commit, one WAL flush) as soon as it ends, instead of each paying its own
 * round trip and commit. A write that finds nothing in flight is written at once: no timer,
 * so a lone caller waits no longer than it would without batching.
 *
 * What each caller is promised:
 * - its promise settles only once its own write is committed (or has failed): nothing can be
 *   acknowledged, published or replied on a write that is not durable yet;
 * - per key (a run id), writes are made in the order they were submitted, and two writes of
 *   one key never share a batch (the later one waits for the next);
 * - a failed batch fails nobody by itself: every write of it is tried again **alone**
 *   (`writeOne`), so one bad row rejects only its own caller. Per-row outcomes that are not
 *   errors (say, a conditional write whose row had moved on) are the batch writer's to report.
 */
import { UnexpectedError, type Logger } from '@maestro/runtime';

/** How a batch is written; see {@link GroupCommit}. */
export interface GroupCommitOptions<Item, Result> {
  /**
   * Writes the items in one transaction and returns one result per item, in their order.
   * Throws only when the whole batch failed (nothing of it is committed).
   */
  writeBatch(items: readonly Item[]): Promise<Result[]>;
  /** Writes one item alone: a batch of one, and each item of a batch that failed. */
  writeOne(item: Item): Promise<Result>;
  /** The key whose writes stay in order and never share a batch (a run id). */
  keyOf(item: Item): string;
  /** Told when a batch failed and its items are retried one by one. */
  logger: Logger;
  /** Items written together at most. @default 64 */
  maxBatch?: number;
}

/** The defaults of {@link GroupCommitOptions}, in one place. */
export const groupCommitDefaults = { maxBatch: 64 } as const;

interface Pending<Item, Result> {
  item: Item;
  key: string;
  resolve(result: Result): void;
  reject(err: unknown): void;
}

/** A batcher of writes across keys, one batch in flight at a time. */
export class GroupCommit<Item, Result> {
  private readonly waiting: Pending<Item, Result>[] = [];
  private inFlight = false;
  private readonly maxBatch: number;

  constructor(private readonly options: GroupCommitOptions<Item, Result>) {
    this.maxBatch = Math.max(1, options.maxBatch ?? groupCommitDefaults.maxBatch);
  }

  /** Writes waiting for the batch in flight to end. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Writes `item` (at once, or with the next batch) and resolves with its result once committed. */
  write(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.waiting.push({ item, key: this.options.keyOf(item), resolve, reject });
      if (!this.inFlight) void this.flush();
    });
  }

  /** Writes batches until nothing waits; only one runs at a time. */
  private async flush(): Promise<void> {
    this.inFlight = true;
    try {
      while (this.waiting.length > 0) await this.writeNext(this.takeBatch());
    } finally {
      this.inFlight = false;
    }
  }

  /**
   * The oldest waiting writes, at most one per key and at most `maxBatch`. A key already in the
   * batch keeps its later writes waiting, so they follow in order in a later batch.
   */
  private takeBatch(): Pending<Item, Result>[] {
    const batch: Pending<Item, Result>[] = [];
    const keys = new Set<string>();
    const left: Pending<Item, Result>[] = [];
    for (const pending of this.waiting) {
      if (batch.length < this.maxBatch && !keys.has(pending.key)) {
        keys.add(pending.key);
        batch.push(pending);
      } else {
        left.push(pending);
      }
    }
    this.waiting.splice(0, this.waiting.length, ...left);
    return batch;
  }

  private async writeNext(batch: Pending<Item, Result>[]): Promise<void> {
    if (batch.length === 1) {
      await this.writeAlone(batch[0]!);
      return;
    }
    let results: Result[];
    try {
      results = await this.options.writeBatch(batch.map((pending) => pending.item));
      if (results.length !== batch.length) throw new UnexpectedError('BATCH_RESULT_COUNT', `a batch of ${batch.length} writes returned ${results.length} results`);
    } catch (err) {
      // Nothing of the batch was committed: each write is tried on its own, so only a write
      // that fails by itself fails its caller.
      this.options.logger.warn('batched write failed; writing its items one by one', { items: batch.length, err });
      await Promise.all(batch.map((pending) => this.writeAlone(pending)));
      return;
    }
    batch.forEach((pending, i) => pending.resolve(results[i]!));
  }

  private async writeAlone(pending: Pending<Item, Result>): Promise<void> {
    try {
      pending.resolve(await this.options.writeOne(pending.item));
    } catch (err) {
      pending.reject(err);
    }
  }
}
