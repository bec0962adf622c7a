/**
 * Embedders for tests, built on the real local embedder: one that can be taken down (throws
 * the `OperationalError` a provider outage gives) and counts its calls, one that answers
 * vectors of the wrong length (a misconfigured provider), and one that refuses some texts as a
 * provider refuses an input over its limit (or every text, as a bad key does).
 */
import { LocalHashEmbedder, ProviderErrorCodes, providerError } from '@maestro/llm';
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

/**
 * The local embedder (its id and vectors) behind a provider's refusals: a request holding a
 * text longer than `maxChars` or containing `refuse` fails whole with the `CONTEXT_TOO_LONG`
 * `UserError` a provider's 400 gives, and `authFailed = true` fails every request with
 * `PROVIDER_AUTH_FAILED`. `requests` records the texts of every request.
 */
export class RefusingEmbedder implements Embedder {
  readonly id: string;
  readonly dimensions: number;
  readonly local = true;
  authFailed = false;
  readonly requests: string[][] = [];
  private readonly inner: LocalHashEmbedder;

  constructor(
    private readonly options: { dimensions: number; refuse?: string; maxChars?: number },
  ) {
    this.inner = new LocalHashEmbedder({ dimensions: options.dimensions });
    this.id = this.inner.id;
    this.dimensions = this.inner.dimensions;
  }

  async embed(texts: readonly string[], options?: EmbedOptions): Promise<number[][]> {
    this.requests.push([...texts]);
    if (this.authFailed) {
      throw providerError(ProviderErrorCodes.authFailed, 'the fake provider rejected the API key: set FAKE_API_KEY', {
        provider: 'fake',
        status: 401,
        keyVariable: 'FAKE_API_KEY',
      });
    }
    const { refuse, maxChars } = this.options;
    const refused = texts.findIndex((t) => (refuse !== undefined && t.includes(refuse)) || (maxChars !== undefined && t.length > maxChars));
    if (refused >= 0) {
      throw providerError(ProviderErrorCodes.contextTooLong, `input ${refused} is longer than the model's input limit`, {
        provider: 'fake',
        status: 400,
      });
    }
    return this.inner.embed(texts, options);
  }
}
