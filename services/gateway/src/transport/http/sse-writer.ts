/**
 * The `text/event-stream` wire format of one response, and the bound on what a slow client may
 * leave unsent in gateway memory.
 */
import type { ServerResponse } from 'node:http';

/** How much a stream may hold unsent for a slow client before it is ended: 1 MiB. */
export const DEFAULT_SSE_MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * The share of `maxBufferedBytes` past which a long replay waits for the client to read
 * (`SseStream.pace`): well below the bound, so a replay of thousands of steps is sent as fast as
 * the client reads instead of overrunning it at once.
 */
const PACE_SHARE_OF_MAX_BUFFERED = 1 / 4;

/** The last line a stream sends when its client does not read fast enough. */
export const CLIENT_TOO_SLOW_COMMENT = 'client too slow; reconnect to resume';

/** Options of {@link SseWriter}. */
export interface SseWriterOptions {
  /** Unsent bytes (`writableLength`) past which the stream is ended. @default DEFAULT_SSE_MAX_BUFFERED_BYTES */
  maxBufferedBytes?: number;
  /** Called once when the stream was ended because the client fell behind, so its owner stops too. */
  onTooSlow?: () => void;
}

/**
 * Writes the `text/event-stream` wire format: numbered events and comment lines. A client that
 * stops reading would make every write pile up in gateway memory, so once more than
 * `maxBufferedBytes` wait unsent the stream ends with {@link CLIENT_TOO_SLOW_COMMENT}; the
 * client reconnects and replays from the run's history.
 */
export class SseWriter {
  private nextId = 1;
  private ended = false;
  private readonly maxBufferedBytes: number;

  constructor(
    private readonly response: ServerResponse,
    private readonly options: SseWriterOptions = {},
  ) {
    this.maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_SSE_MAX_BUFFERED_BYTES;
  }

  /** Whether the stream has ended (by {@link end} or because the client fell behind). */
  get isEnded(): boolean {
    return this.ended;
  }

  /** Whether so much waits unsent that a long run of writes should wait for the client ({@link drained}). */
  get needsDrain(): boolean {
    return this.response.writableLength > this.maxBufferedBytes * PACE_SHARE_OF_MAX_BUFFERED;
  }

  /** Resolves once the response's buffer has drained, or it closed. */
  drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.response.off('drain', done);
        this.response.off('close', done);
        resolve();
      };
      this.response.on('drain', done);
      this.response.on('close', done);
    });
  }

  /** Sends the status line and headers at once, so the client knows the stream is open. */
  open(): void {
    this.response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx and similar proxies buffer responses unless told otherwise.
      'x-accel-buffering': 'no',
    });
    this.response.flushHeaders();
  }

  /** Sends one event; `id` increases by one per event of this stream. */
  event(name: string, data: unknown): void {
    if (this.ended) return;
    // JSON.stringify escapes newlines inside strings, so `data` is always one line.
    this.write(`id: ${this.nextId++}\nevent: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** Sends a comment line, which clients ignore; keeps idle connections from being cut. */
  comment(text: string): void {
    if (this.ended) return;
    this.write(`: ${text}\n\n`);
  }

  private write(chunk: string): void {
    // write() returning false only says the buffer is past its high-water mark; what bounds
    // memory is how much is still unsent, whatever the socket's own buffer size.
    this.response.write(chunk);
    if (this.response.writableLength > this.maxBufferedBytes) this.endTooSlow();
  }

  /** Ends the stream because the client does not read fast enough: says so last, then `onTooSlow`. */
  endTooSlow(): void {
    if (this.ended) return;
    this.response.write(`: ${CLIENT_TOO_SLOW_COMMENT}\n\n`);
    this.end();
    this.options.onTooSlow?.();
  }

  /** Ends the response. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.response.end();
  }
}
