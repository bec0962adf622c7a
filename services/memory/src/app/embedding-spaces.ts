/**
 * Which embedders the service uses, and for what. The current embedder (`MAESTRO_MEMORY_EMBEDDER`)
 * gets every new vector. Until its space covers every active memory (a new install is covered
 * at once; a changed embedder after the re-embedder's last batch) recall keeps searching the
 * previous ready space, with that space's embedder rebuilt from its stored spec, and new or
 * edited memories are written to both spaces, so changing the embedder never loses recall.
 */
import { EmbedPurposes } from '@maestro/llm';
import type { Embedder, EmbedPurpose } from '@maestro/llm';
import { UnexpectedError } from '@maestro/runtime';
import type { Clock, Logger } from '@maestro/runtime';
import { MemoryErrorCodes } from '../domain/memory-error-codes.js';
import { embeddingText } from '../domain/memory.js';
import type { Memory } from '../domain/memory.js';
import { checkVector } from '../domain/vector.js';
import type { VectorIndex } from '../store/vector-index.js';
import { withDeadline } from './with-deadline.js';

/** Builds the embedder of a stored spec (for the previous space); throws when it cannot. */
export type EmbedderFactory = (spec: string) => Embedder;

/** What {@link EmbeddingSpaces.open} needs. */
export interface EmbeddingSpacesOptions {
  index: VectorIndex;
  /** The configured embedder, and the spec it was made from. */
  current: Embedder;
  currentSpec: string;
  /** Rebuilds an earlier embedder from its spec, so queries can search its space meanwhile. */
  embedderFor: EmbedderFactory;
  clock: Clock;
  logger: Logger;
  /**
   * Longest wait for one embedder call.
   * @default 5000
   */
  embedTimeoutMs?: number;
}

/** Defaults of {@link EmbeddingSpacesOptions}. */
export const EMBEDDING_SPACES_DEFAULTS = { embedTimeoutMs: 5_000 } as const;

/** The embedders in use and the readiness of the current one's space. */
export class EmbeddingSpaces {
  private currentReady: boolean;

  private constructor(
    readonly current: Embedder,
    /** The last ready space's embedder, while the current space fills; undefined when there is none. */
    readonly previous: Embedder | undefined,
    currentReady: boolean,
    private readonly index: VectorIndex,
    private readonly clock: Clock,
    private readonly embedTimeoutMs: number,
  ) {
    this.currentReady = currentReady;
  }

  /** Registers the current space and finds the previous one (logging why when it cannot be used). */
  static async open(options: EmbeddingSpacesOptions): Promise<EmbeddingSpaces> {
    const { index, current, logger } = options;
    const now = new Date(options.clock.now());
    const space = await index.registerSpace({ embedderId: current.id, spec: options.currentSpec, dimensions: current.dimensions }, now);
    const ready = space.readyAt !== undefined;
    let previous: Embedder | undefined;
    if (!ready) {
      const candidates = (await index.spaces())
        .filter((s) => s.embedderId !== current.id && s.readyAt !== undefined)
        .sort((a, b) => b.readyAt!.getTime() - a.readyAt!.getTime());
      const last = candidates[0];
      if (last !== undefined) {
        try {
          const embedder = options.embedderFor(last.spec);
          if (embedder.id !== last.embedderId || embedder.dimensions !== last.dimensions) {
            logger.warn('previous embedding space not usable: its spec builds another embedder', {
              space: last.embedderId,
              built: embedder.id,
            });
          } else {
            previous = embedder;
          }
        } catch (err) {
          logger.warn('previous embedding space not usable: its embedder cannot be built', { space: last.embedderId, err });
        }
      }
    }
    logger.info('embedding spaces', { current: current.id, ready, previous: previous?.id });
    return new EmbeddingSpaces(current, previous, ready, index, options.clock, options.embedTimeoutMs ?? EMBEDDING_SPACES_DEFAULTS.embedTimeoutMs);
  }

  /** True once the current space covers every active memory. */
  get ready(): boolean {
    return this.currentReady;
  }

  /** The embedder whose space recall searches: the current one once ready, the previous one until then. */
  serving(): Embedder {
    return this.currentReady || this.previous === undefined ? this.current : this.previous;
  }

  /** The embedders a new or edited memory is written for. */
  writers(): Embedder[] {
    return this.currentReady || this.previous === undefined ? [this.current] : [this.current, this.previous];
  }

  /** Records that the current space covers every active memory (from now on recall uses it). */
  async markCurrentReady(): Promise<void> {
    await this.index.markReady(this.current.id, new Date(this.clock.now()));
    this.currentReady = true;
  }

  /**
   * Vectors of `texts` from `embedder`, within the deadline. The embedder's own errors pass as
   * they are (a `UserError` means it refused the request); an answer that does not fit the
   * space (count, dimension, non-finite values) is `EMBEDDER_BAD_VECTOR`, the embedder's fault.
   */
  async embed(embedder: Embedder, texts: readonly string[], purpose: EmbedPurpose): Promise<number[][]> {
    const vectors = await withDeadline(this.clock, this.embedTimeoutMs, `embedder ${embedder.id}`, (signal) =>
      embedder.embed(texts, { signal, purpose }),
    );
    try {
      if (vectors.length !== texts.length) throw new Error(`${vectors.length} vectors for ${texts.length} texts`);
      vectors.forEach((vector) => checkVector(vector, embedder.dimensions));
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new UnexpectedError(MemoryErrorCodes.embedderBadVector, `embedder ${embedder.id} answered vectors that do not fit its space: ${detail}`, {
        cause: err,
      });
    }
    return vectors;
  }

  /**
   * Embeds `memories` into every space in use and stores the vectors. Never throws: an
   * embedder that is down leaves them for the re-embedder, and says so at warn.
   */
  async storeVectors(memories: readonly Memory[], logger: Logger): Promise<void> {
    if (memories.length === 0) return;
    for (const embedder of this.writers()) {
      try {
        const vectors = await this.embed(embedder, memories.map(embeddingText), EmbedPurposes.document);
        const now = new Date(this.clock.now());
        await this.index.put(
          embedder.id,
          memories.map((m, i) => ({ memoryId: m.id, vector: vectors[i]! })),
          now,
        );
      } catch (err) {
        logger.warn('memory not embedded; the re-embedder will retry', { embedder: embedder.id, ids: memories.map((m) => m.id), err });
      }
    }
  }
}
