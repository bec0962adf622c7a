/**
 * The core of every fake provider server: a real HTTP server on 127.0.0.1 that answers each
 * request with the next {@link FakeResponse} a responder gives it, and records what it was
 * asked. Provider fakes (`fake-openai-server.ts`, `fake-gemini-server.ts`) put their wire
 * format on top; tests point the official SDKs at `baseUrl`.
 *
 * Nothing here is a model: replies are recorded payloads or scripted text, and say so.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One response as the wire carries it. Exactly one of `body`, `rawBody` or `sseEvents` (or none). */
export interface FakeResponse {
  /** @default 200 */
  status?: number;
  headers?: Record<string, string>;
  /** A JSON body (serialized with `JSON.stringify`; `content-type: application/json` unless set). */
  body?: unknown;
  /** Exact bytes to send. */
  rawBody?: string;
  /**
   * Server-sent events, each already in wire form (`data: {...}`); each is followed by
   * `separator`. `content-type: text/event-stream` unless set.
   */
  sseEvents?: string[];
  /** @default '\n\n' */
  separator?: string;
  /** Wait this long before answering (for timeout tests). */
  delayMs?: number;
  /**
   * Wait this long after writing each event, so each reaches the client as its own network
   * read (in one process, events written back to back are often read as one chunk).
   */
  eventDelayMs?: number;
  /** Send only the first N events, then destroy the socket (a stream cut mid-way). */
  cutAfterEvents?: number;
  /** Send headers and the first N events, then stall without ending (for idle-timeout tests). */
  stallAfterEvents?: number;
}

/** A request the fake server received. */
export interface RecordedRequest {
  method: string;
  /** Path and query string. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** The body parsed as JSON, or the raw text when it is not JSON. */
  body: unknown;
  /** True when the client went away before the response ended (an aborted call). */
  aborted: boolean;
}

/** Decides the response to one request. */
export type FakeResponder = (request: RecordedRequest) => FakeResponse | Promise<FakeResponse>;

/** A running fake server. */
export interface FakeHttpServer {
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string;
  /** Every request so far, in arrival order. */
  readonly requests: RecordedRequest[];
  /** Replaces the responder (for a test that changes what the server does). */
  setResponder(responder: FakeResponder): void;
  /** Answers the next requests with these responses, in order; then falls back to the responder. */
  enqueue(...responses: FakeResponse[]): void;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function send(res: ServerResponse, response: FakeResponse): Promise<void> {
  if (response.delayMs !== undefined) await sleep(response.delayMs);
  if (res.destroyed) return;
  const headers: Record<string, string> = { ...(response.headers ?? {}) };
  const has = (name: string) => Object.keys(headers).some((h) => h.toLowerCase() === name);
  if (response.sseEvents !== undefined) {
    if (!has('content-type')) headers['content-type'] = 'text/event-stream';
    res.writeHead(response.status ?? 200, headers);
    const separator = response.separator ?? '\n\n';
    for (const [i, event] of response.sseEvents.entries()) {
      if (response.cutAfterEvents !== undefined && i >= response.cutAfterEvents) {
        res.socket?.destroy();
        return;
      }
      if (response.stallAfterEvents !== undefined && i >= response.stallAfterEvents) return;
      res.write(event + separator);
      // Let each event leave as its own chunk, as a live stream does.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (response.eventDelayMs !== undefined) await sleep(response.eventDelayMs);
    }
    if (response.cutAfterEvents !== undefined && response.cutAfterEvents >= response.sseEvents.length) {
      res.socket?.destroy();
      return;
    }
    if (response.stallAfterEvents !== undefined) return;
    res.end();
    return;
  }
  const text = response.rawBody ?? (response.body === undefined ? '' : JSON.stringify(response.body));
  if (response.body !== undefined && !has('content-type')) headers['content-type'] = 'application/json';
  res.writeHead(response.status ?? 200, headers);
  if (response.stallAfterEvents !== undefined) return;
  res.end(text);
}

/**
 * Starts a fake server on 127.0.0.1 and a free port. Without a responder (and with nothing
 * enqueued) it answers 500 with a body saying it had nothing to say, so a test that forgot a
 * response fails loudly rather than hanging.
 */
export async function startFakeHttpServer(responder?: FakeResponder): Promise<FakeHttpServer> {
  const requests: RecordedRequest[] = [];
  const queue: FakeResponse[] = [];
  let current: FakeResponder | undefined = responder;
  const server = createServer((req, res) => {
    void (async () => {
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body: await readBody(req),
        aborted: false,
      };
      requests.push(recorded);
      res.on('close', () => {
        if (!res.writableFinished) recorded.aborted = true;
      });
      const next = queue.shift();
      const response: FakeResponse =
        next ??
        (current !== undefined
          ? await current(recorded)
          : { status: 500, body: { error: { message: 'fake server: no response was prepared for this request' } } });
      await send(res, response);
    })().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `fake server failed: ${(err as Error).message}` } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    setResponder: (next) => {
      current = next;
    },
    enqueue: (...responses) => {
      queue.push(...responses);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
