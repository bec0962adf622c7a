/**
 * Server-sent events from the gateway (`/v1/events`, `/v1/runs/:id/events`) over an EventSource
 * that sends the viewer's key (`FetchEventSource`: the browser's own cannot send headers), with the connection's state for the views (live, reconnecting, ended). The
 * browser reconnects by itself after a network failure; a stream that ended on purpose (a run's
 * stream after `run.finished`) is closed by the caller so it is not replayed again and again.
 */

import { toApiError } from './api-error';
import { authHeaders, signOut } from './credentials';
import { FetchEventSource } from './fetch-event-source';

/** Where a stream stands, as the views show it. */
export const StreamStates = {
  connecting: 'connecting',
  live: 'live',
  reconnecting: 'reconnecting',
  closed: 'closed',
} as const;
export type StreamState = (typeof StreamStates)[keyof typeof StreamStates];

/** One named event with its parsed `data`. */
export interface StreamEvent {
  name: string;
  data: Record<string, unknown>;
}

/** The part of EventSource the wrapper uses, so tests can hand in a fake. */
export interface EventSourceLike {
  readonly readyState: number;
  onopen: ((event: Event) => unknown) | null;
  onerror: ((event: Event) => unknown) | null;
  addEventListener(name: string, listener: (event: MessageEvent) => void): void;
  close(): void;
}

/** Options of {@link openEventStream}. */
export interface EventStreamOptions {
  url: string;
  /** Event names to listen to (SSE `event:` lines). */
  events: readonly string[];
  onEvent(event: StreamEvent): void;
  onState(state: StreamState): void;
  /** @default a {@link FetchEventSource} with the viewer's key; a 401 signs the viewer out */
  create?: (url: string) => EventSourceLike;
}

/** The event the gateway ends a stream with once its credential is no longer accepted. */
export const UNAUTHENTICATED_EVENT = 'unauthenticated';

/** EventSource.CLOSED: the browser gave up (an answer that is not a stream, such as a 404). */
const CLOSED = 2;

/** Opens the stream; returns the function that closes it. Data that is not a JSON object is ignored. */
export function openEventStream(options: EventStreamOptions): () => void {
  const source = (options.create ?? authenticatedSource)(options.url);
  let closed = false;
  options.onState(StreamStates.connecting);
  source.onopen = () => {
    if (!closed) options.onState(StreamStates.live);
  };
  source.onerror = () => {
    if (closed) return;
    if (source.readyState === CLOSED) {
      closed = true;
      options.onState(StreamStates.closed);
    } else {
      options.onState(StreamStates.reconnecting);
    }
  };
  // The gateway's last event on a stream whose key was revoked or whose token expired: sign in
  // again now, rather than reconnecting to be refused.
  source.addEventListener(UNAUTHENTICATED_EVENT, (message) => {
    if (closed) return;
    closed = true;
    source.close();
    options.onState(StreamStates.closed);
    const reason = parseObject(message.data)?.['message'];
    signOut(`the live stream ended: ${typeof reason === 'string' ? reason : 'credentials no longer accepted'}`);
  });
  for (const name of options.events) {
    source.addEventListener(name, (message) => {
      if (closed) return;
      const data = parseObject(message.data);
      if (data !== undefined) options.onEvent({ name, data });
    });
  }
  return () => {
    if (closed) return;
    closed = true;
    source.close();
    options.onState(StreamStates.closed);
  };
}

/** The default source: the viewer's key on every connection; a refused key signs the viewer out. */
function authenticatedSource(url: string): EventSourceLike {
  return new FetchEventSource(url, {
    headers: () => authHeaders(),
    onRefused: (status, body) => {
      if (status === 401) signOut(toApiError(status, parseObject(body), 'the live stream').message);
    },
  });
}

function parseObject(text: unknown): Record<string, unknown> | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
