/**
 * A minimal server-sent-events reader over `fetch`, enough to follow a run from the gateway.
 */

/** One event of the stream. */
export interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

/** The stream was refused (the status and the body the server sent). */
export class EventStreamError extends Error {
  override readonly name = 'EventStreamError';
  constructor(
    readonly url: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`GET ${url}: HTTP ${status} ${body}`);
  }
}

/**
 * Reads `url` as an event stream (with `headers`, e.g. the credentials) and calls `onEvent` for each event until the server ends
 * the stream or `signal` aborts.
 */
export async function readEventStream(
  url: string,
  onEvent: (event: SseEvent) => void,
  signal?: AbortSignal,
  headers: Readonly<Record<string, string>> = {},
): Promise<void> {
  const response = await fetch(url, { headers: { ...headers, accept: 'text/event-stream' }, signal });
  if (!response.ok || !response.body) throw new EventStreamError(url, response.status, await response.text());
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event: SseEvent = { event: 'message', data: '' };
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event.event = value;
        else if (field === 'id') event.id = value;
        else if (field === 'data') data.push(value);
      }
      if (data.length === 0) continue;
      event.data = data.join('\n');
      onEvent(event);
    }
  }
}
