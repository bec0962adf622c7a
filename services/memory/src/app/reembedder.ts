/**
 * The background re-embedder: fills the current embedder's space with vectors for the active
 * memories that lack one (written while the embedder was down, or all of them after the
 * embedder changed), in bounded batches, driven by the injected clock. When a pass finds none
 * missing it marks the space ready, and recall moves from the previous space to this one.
 * Several replicas may run it at once: writes are idempotent (one vector per memory and space).
 */
import type { Clock, Logger, Timer } from '@maestro/runtime';
import { EmbedPurposes } from '@maestro/llm';
import { embeddingText } from '../domain/memory.js';
import type { VectorIndex } from '../store/vector-index.js';
import type { EmbeddingSpaces } from './embedding-spaces.js';

/** What {@link Reembedder} needs. */
export interface ReembedderOptions {
  spaces: EmbeddingSpaces;
  index: VectorIndex;
  clock: Clock;
  logger: Logger;
  /**
   * Wait between passes when nothing was left to do (or a pass failed); a pass that embedded
   * something is followed at once by the next.
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

  /** One pass: embeds up to `batchSize` memories lacking a vector; marks the space ready when none lack one. */
  async runOnce(): Promise<ReembedPass> {
    const embedder = this.spaces.current;
    const batch = await this.index.missing(embedder.id, this.batchSize);
    if (batch.length === 0) {
      if (!this.spaces.ready) {
        await this.spaces.markCurrentReady();
        this.logger.info('embedding space ready; recall uses it now', { embedder: embedder.id });
      }
      return { embedded: 0, ready: true };
    }
    const vectors = await this.spaces.embed(embedder, batch.map(embeddingText), EmbedPurposes.document);
    await this.index.put(
      embedder.id,
      batch.map((memory, i) => ({ memoryId: memory.id, vector: vectors[i]! })),
      new Date(this.clock.now()),
    );
    this.logger.info('memories re-embedded', { embedder: embedder.id, count: batch.length });
    return { embedded: batch.length, ready: false };
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
      if (pass.embedded > 0) next = 0;
    } catch (err) {
      this.logger.warn('re-embedding pass failed; retrying later', { embedder: this.spaces.current.id, err });
    } finally {
      this.running = undefined;
    }
    this.schedule(next);
  }
}
