/**
 * An EventSource over `fetch`, because the browser's EventSource cannot send an
 * `Authorization` header and the key must not go into the URL. It behaves like EventSource
 * where the viewer relies on it: `onopen` once the stream answers 2xx, named events to their
 * listeners, a reconnect after a network failure (readyState CONNECTING, `onerror`), and
 * readyState CLOSED with `onerror` for an answer that is not a stream (a 401 or 404 is final).
 */
import type { EventSourceLike } from './event-stream';

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

/** How long to wait before reconnecting when the server named no `retry:`. */
const DEFAULT_RETRY_MS = 2_000;

/** One parsed SSE block. */
interface SseBlock {
  event: string;
  data: string;
  retry?: number;
}

/** Parses one SSE block (the lines between blank lines); undefined for a comment or data-less block. */
export function parseSseBlock(block: string): SseBlock | undefined {
  let event = 'message';
  const data: string[] = [];
  let retry: number | undefined;
  for (const line of block.split(/\r?\n/)) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'retry' && /^\d+$/.test(value)) retry = Number(value);
  }
  if (data.length === 0) return retry === undefined ? undefined : { event: '', data: '', retry };
  return { event, data: data.join('\n'), ...(retry !== undefined ? { retry } : {}) };
}

/** Options of {@link FetchEventSource}. */
export interface FetchEventSourceOptions {
  /** Sent with every (re)connection, read each time so a new sign-in is used. */
  headers: () => Record<string, string>;
  /** Called with the status and body of an answer that is not a stream, before it closes. */
  onRefused?: (status: number, body: string) => void;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** See the module doc. */
export class FetchEventSource implements EventSourceLike {
  readyState = CONNECTING;
  onopen: ((event: Event) => unknown) | null = null;
  onerror: ((event: Event) => unknown) | null = null;
  private readonly listeners = new Map<string, Array<(event: MessageEvent) => void>>();
  private readonly abort = new AbortController();
  private retryMs = DEFAULT_RETRY_MS;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly url: string,
    private readonly options: FetchEventSourceOptions,
  ) {
    void this.connect();
  }

  addEventListener(name: string, listener: (event: MessageEvent) => void): void {
    const list = this.listeners.get(name) ?? [];
    list.push(listener);
    this.listeners.set(name, list);
  }

  close(): void {
    this.readyState = CLOSED;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.abort.abort();
  }

  private async connect(): Promise<void> {
    this.readyState = CONNECTING;
    let response: Response;
    try {
      response = await (this.options.fetch ?? fetch)(this.url, {
        headers: { ...this.options.headers(), accept: 'text/event-stream' },
        signal: this.abort.signal,
      });
    } catch {
      this.networkFailure();
      return;
    }
    if (!response.ok || response.body === null) {
      const body = await response.text().catch(() => '');
      if (this.readyState === CLOSED) return;
      this.readyState = CLOSED;
      this.options.onRefused?.(response.status, body);
      this.onerror?.(new Event('error'));
      return;
    }
    if (this.readyState === CLOSED) return;
    this.readyState = OPEN;
    this.onopen?.(new Event('open'));
    try {
      await this.read(response.body);
    } catch {
      // A cut connection: like EventSource, try again.
    }
    this.networkFailure();
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
        this.dispatch(block);
      }
    }
  }

  private dispatch(text: string): void {
    const block = parseSseBlock(text);
    if (block === undefined || this.readyState === CLOSED) return;
    if (block.retry !== undefined) this.retryMs = block.retry;
    if (block.event === '') return;
    for (const listener of this.listeners.get(block.event) ?? []) listener(new MessageEvent(block.event, { data: block.data }));
  }

  private networkFailure(): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CONNECTING;
    this.onerror?.(new Event('error'));
    this.retryTimer = setTimeout(() => void this.connect(), this.retryMs);
  }
}
