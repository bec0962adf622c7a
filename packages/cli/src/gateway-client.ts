/**
 * The CLI's only way to the cluster: the gateway's public HTTP API. Errors come back as
 * {@link GatewayError} carrying the gateway's `{ error: { code, message, field } }`, and a gateway
 * that does not answer as {@link GatewayUnreachableError}, saying how to start one.
 */
import { EventStreamError, readEventStream, type SseEvent } from './sse-client.js';

/** The gateway answered with an error status. */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field: string | undefined,
  ) {
    super(message);
  }
}

/** Nothing answers at the gateway URL. */
export class GatewayUnreachableError extends Error {
  override readonly name = 'GatewayUnreachableError';
}

function errorOf(status: number, method: string, path: string, body: unknown): GatewayError {
  const error = (body as { error?: { code?: unknown; message?: unknown; field?: unknown } } | null)?.error;
  if (error && typeof error.message === 'string') {
    return new GatewayError(status, String(error.code ?? `HTTP_${status}`), error.message, typeof error.field === 'string' ? error.field : undefined);
  }
  return new GatewayError(status, `HTTP_${status}`, `${method} ${path}: HTTP ${status}`, undefined);
}

/** The event the gateway ends a stream with once the stream's credential is no longer accepted. */
export const UNAUTHENTICATED_EVENT = 'unauthenticated';

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** A client of one gateway, sending `apiKey` (when given) as `Authorization: Bearer <key>` on every request. */
export class GatewayClient {
  constructor(
    readonly baseUrl: string,
    private readonly apiKey?: string,
  ) {}

  /** The credentials header, or nothing without a key. */
  private authHeaders(): Record<string, string> {
    return this.apiKey === undefined ? {} : { authorization: `Bearer ${this.apiKey}` };
  }

  private unreachable(err: unknown): GatewayUnreachableError {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
    return new GatewayUnreachableError(
      `no gateway answers at ${this.baseUrl} (${why}); start the cluster with \`maestro up\`, or point --gateway or MAESTRO_GATEWAY_URL at a running gateway`,
    );
  }

  /** Sends a request and returns the parsed JSON body; throws {@link GatewayError} on a non-2xx status. */
  async request<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<{ status: number; body: T }> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { ...this.authHeaders(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw this.unreachable(err);
    }
    const text = await response.text();
    let json: unknown = null;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch {
      json = null;
    }
    if (!response.ok) throw errorOf(response.status, method, path, json);
    if (json === null) throw new GatewayError(response.status, 'NOT_JSON', `${method} ${path}: the answer was not JSON; is ${this.baseUrl} a CodeMaestro gateway?`, undefined);
    return { status: response.status, body: json as T };
  }

  /** GET returning the body. */
  async get<T>(path: string): Promise<T> {
    return (await this.request<T>('GET', path)).body;
  }

  /** DELETE returning the body. */
  async delete<T>(path: string): Promise<T> {
    return (await this.request<T>('DELETE', path)).body;
  }

  /** POST returning the body. */
  async post<T>(path: string, body: unknown): Promise<T> {
    return (await this.request<T>('POST', path, body)).body;
  }

  /** Follows an SSE stream until it ends or `signal` aborts. */
  async events(path: string, onEvent: (event: SseEvent) => void, signal?: AbortSignal): Promise<void> {
    // The gateway ends an open stream with this event when its credential was revoked or has
    // expired: it becomes the 401 a new request would get, not a stream to reopen.
    let lapsed: GatewayError | undefined;
    const deliver = (event: SseEvent): void => {
      if (event.event === UNAUTHENTICATED_EVENT) lapsed = errorOf(401, 'GET', path, { error: parseJson(event.data) });
      else onEvent(event);
    };
    try {
      await readEventStream(`${this.baseUrl}${path}`, deliver, signal, this.authHeaders());
      if (lapsed !== undefined) throw lapsed;
    } catch (err) {
      if (err === lapsed) throw err;
      if (signal?.aborted) return;
      if (err instanceof EventStreamError) {
        let body: unknown = null;
        try {
          body = JSON.parse(err.body);
        } catch {
          body = null;
        }
        throw errorOf(err.status, 'GET', path, body);
      }
      if (err instanceof TypeError) throw this.unreachable(err);
      throw err;
    }
  }
}

/** `a/b` path segment, encoded. */
export function segment(value: string): string {
  return encodeURIComponent(value);
}
