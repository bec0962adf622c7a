/**
 * The background re-embedder: fills the current embedder's space with vectors for the active
 * memories that lack one (written while the embedder was down, or all of them after the
 * embedder changed), in bounded batches, driven by the injected clock. When a pass finds none
 * missing it marks the space ready, and recall moves from the previous space to this one.
 * Several replicas may run it at once: writes are idempotent (one vector per memory and space).
 *
 * One memory the embedder refuses for good (a `UserError` about the text: too long for the
 * model, refused content) must not hold the space back forever, as the oldest missing batch
 * would fail every pass: after a batch fails with a non-operational error, its texts are sent
 * one at a time, and each one refused is recorded as skipped in the space (warned, with its id
 * and the error); recall still finds it by keyword. Errors that are not about one text (the
 * embedder down or timing out, a bad key, an unknown model, vectors of the wrong size) fail
 * the pass, which is tried again later, and skip nothing.
 */
import { UserError } from '@maestro/runtime';
import type { Clock, Logger, Timer } from '@maestro/runtime';
import { EmbedPurposes, ProviderErrorCodes } from '@maestro/llm';
import type { Embedder } from '@maestro/llm';
import { embeddingText } from '../domain/memory.js';
import type { Memory } from '../domain/memory.js';
import type { SkippedEntry, VectorEntry, VectorIndex } from '../store/vector-index.js';
import type { EmbeddingSpaces } from './embedding-spaces.js';

/** What {@link Reembedder} needs. */
export interface ReembedderOptions {
  spaces: EmbeddingSpaces;
  index: VectorIndex;
  clock: Clock;
  logger: Logger;
  /**
   * Wait between passes when nothing was left to do (or a pass failed); a pass that embedded
   * or skipped something is followed at once by the next.
   * @default 30000
   */
  intervalMs?: number;
  /**
   * Memories embedded per pass (one embedder call).
   * @default 32
   */
  batchSize?: number;
}

/** Defaults of {@link ReembedderOptions}. */
export const REEMBEDDER_DEFAULTS = { intervalMs: 30_000, batchSize: 32 } as const;

/** What one pass did. */
export interface ReembedPass {
  /** Memories given a vector in the current space. */
  readonly embedded: number;
  /** Memories the current embedder refused, recorded as skipped in its space. */
  readonly skipped: number;
  /** True when the current space covers every active memory after this pass. */
  readonly ready: boolean;
}

/** Fills the current embedding space in the background. */
export class Reembedder {
  private readonly spaces: EmbeddingSpaces;
  private readonly index: VectorIndex;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly intervalMs: number;
  private readonly batchSize: number;
  private timer: Timer | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(options: ReembedderOptions) {
    this.spaces = options.spaces;
    this.index = options.index;
    this.clock = options.clock;
    this.logger = options.logger;
    this.intervalMs = options.intervalMs ?? REEMBEDDER_DEFAULTS.intervalMs;
    this.batchSize = options.batchSize ?? REEMBEDDER_DEFAULTS.batchSize;
  }

  /** Starts passes (the first one at once). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops scheduling passes and waits for the one in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    await this.running;
  }

  /** Resolves when no pass is running (for tests that move a manual clock). */
  async whenIdle(): Promise<void> {
    await this.running;
  }

  /**
   * One pass: embeds up to `batchSize` memories lacking a vector (skipping those the embedder
   * refuses, see the module comment); marks the space ready when none lack one.
   */
  async runOnce(): Promise<ReembedPass> {
    const embedder = this.spaces.current;
    const batch = await this.index.missing(embedder.id, this.batchSize);
    if (batch.length === 0) {
      if (!this.spaces.ready) {
        await this.spaces.markCurrentReady();
        this.logger.info('embedding space ready; recall uses it now', { embedder: embedder.id });
      }
      return { embedded: 0, skipped: 0, ready: true };
    }
    let vectors: number[][];
    try {
      vectors = await this.spaces.embed(embedder, batch.map(embeddingText), EmbedPurposes.document);
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      return this.oneByOne(embedder, batch, err);
    }
    await this.index.put(
      embedder.id,
      batch.map((memory, i) => ({ memoryId: memory.id, vector: vectors[i]! })),
      new Date(this.clock.now()),
    );
    this.logger.info('memories re-embedded', { embedder: embedder.id, count: batch.length });
    return { embedded: batch.length, skipped: 0, ready: false };
  }

  /**
   * The batch refused as a whole: each text on its own, storing what embeds and recording what
   * the embedder refuses. An error not about the text stores what was done and fails the pass.
   */
  private async oneByOne(embedder: Embedder, batch: readonly Memory[], batchError: UserError): Promise<ReembedPass> {
    this.logger.info('embedder refused a batch; embedding its memories one at a time', {
      embedder: embedder.id,
      count: batch.length,
      err: batchError,
    });
    const embedded: VectorEntry[] = [];
    const skipped: SkippedEntry[] = [];
    try {
      for (const memory of batch) {
        try {
          const [vector] = await this.spaces.embed(embedder, [embeddingText(memory)], EmbedPurposes.document);
          embedded.push({ memoryId: memory.id, vector: vector! });
        } catch (err) {
          if (!isRefusalOfText(err)) throw err;
          this.logger.warn('memory not embedded: the embedder refuses its text; skipped in this space (recall finds it by keyword)', {
            embedder: embedder.id,
            memoryId: memory.id,
            err,
          });
          skipped.push({ memoryId: memory.id, reason: `${err.code}: ${err.message}` });
        }
      }
    } finally {
      const now = new Date(this.clock.now());
      await this.index.put(embedder.id, embedded, now);
      await this.index.skip(embedder.id, skipped, now);
    }
    this.logger.info('memories re-embedded', { embedder: embedder.id, count: embedded.length, skipped: skipped.length });
    return { embedded: embedded.length, skipped: skipped.length, ready: false };
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimer(delayMs, () => {
      this.timer = undefined;
      this.running = this.tick();
    });
  }

  private async tick(): Promise<void> {
    let next = this.intervalMs;
    try {
      const pass = await this.runOnce();
      if (pass.embedded > 0 || pass.skipped > 0) next = 0;
    } catch (err) {
      this.logger.warn('re-embedding pass failed; retrying later', { embedder: this.spaces.current.id, err });
    } finally {
      this.running = undefined;
    }
    this.schedule(next);
  }
}

/**
 * True when the embedder refused this one text for good: a `UserError` about the request
 * (`invalid`: too long, bad input) or the model's refusal of its content. Auth, balance, a
 * missing key or an unknown model are `UserError`s too, but about the embedder: every text
 * would fail, so they must not be recorded as skips.
 */
function isRefusalOfText(err: unknown): err is UserError {
  return err instanceof UserError && (err.reason === 'invalid' || err.code === ProviderErrorCodes.refused);
}
