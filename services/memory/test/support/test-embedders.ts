/**
 * Embedders for tests, built on the real local embedder: one that can be taken down (throws
 * the `OperationalError` a provider outage gives) and counts its calls, and one that answers
 * vectors of the wrong length (a misconfigured provider).
 */
import { LocalHashEmbedder } from '@maestro/llm';
import type { EmbedOptions, Embedder } from '@maestro/llm';
import { OperationalError } from '@maestro/runtime';

/** The local embedder behind a switch: `down = true` makes every call fail as an outage would. */
export class SwitchableEmbedder implements Embedder {
  readonly id: string;
  readonly dimensions: number;
  readonly local = true;
  down = false;
  calls = 0;
  private readonly inner: LocalHashEmbedder;

  constructor(dimensions = 384) {
    this.inner = new LocalHashEmbedder({ dimensions });
    this.id = this.inner.id;
    this.dimensions = this.inner.dimensions;
  }

  async embed(texts: readonly string[], options?: EmbedOptions): Promise<number[][]> {
    this.calls++;
    if (this.down) throw new OperationalError('EMBEDDER_UNAVAILABLE', `embedder ${this.id} is down (connection refused)`);
    return this.inner.embed(texts, options);
  }
}

/** Claims `dimensions` but answers vectors one shorter. */
export class ShortVectorEmbedder implements Embedder {
  readonly id = 'local:hash-v1:384';
  readonly dimensions = 384;
  readonly local = true;
  private readonly inner = new LocalHashEmbedder({ dimensions: 383 });

  embed(texts: readonly string[], options?: EmbedOptions): Promise<number[][]> {
    return this.inner.embed(texts, options);
  }
}
