import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FetchEventSource, parseSseBlock } from './fetch-event-source';

/** A real HTTP server on 127.0.0.1 answering each connection with `handler`. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/events`, server };
}

function until(check: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const poll = (): void => (check() ? resolve() : void setTimeout(poll, 5));
    poll();
  });
}

describe('parseSseBlock', () => {
  it('reads the event name, joins data lines and skips comments', () => {
    expect(parseSseBlock('event: run.transitioned\ndata: {"a":1}\ndata: {"b":2}')).toEqual({ event: 'run.transitioned', data: '{"a":1}\n{"b":2}' });
    expect(parseSseBlock(': heartbeat')).toBeUndefined();
    expect(parseSseBlock('retry: 500')).toEqual({ event: '', data: '', retry: 500 });
    expect(parseSseBlock('data: x')).toEqual({ event: 'message', data: 'x' });
  });
});

describe('FetchEventSource', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('sends the headers on every connection, delivers named events and reconnects after a cut', async () => {
    const seen: string[] = [];
    let connections = 0;
    const { url, server } = await serve((req, res) => {
      connections += 1;
      seen.push(String(req.headers.authorization));
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`retry: 10\n\n: hello\n\nevent: task.updated\ndata: {"n":${connections}}\n\n`);
      // The first connection is cut after one event: the source must come back by itself.
      if (connections === 1) setTimeout(() => res.destroy(), 20);
    });
    servers.push(server);
    const got: string[] = [];
    const states: string[] = [];
    const source = new FetchEventSource(url, { headers: () => ({ authorization: 'Bearer k1' }) });
    source.onopen = () => states.push('open');
    source.onerror = () => states.push(`error:${source.readyState}`);
    source.addEventListener('task.updated', (e) => got.push(String(e.data)));
    await until(() => got.length >= 2);
    source.close();
    expect(got.slice(0, 2)).toEqual(['{"n":1}', '{"n":2}']);
    expect(seen.slice(0, 2)).toEqual(['Bearer k1', 'Bearer k1']);
    expect(states.slice(0, 3)).toEqual(['open', 'error:0', 'open']);
  });

  it('closes for good on a refusal and hands over its status and body', async () => {
    let connections = 0;
    const { url, server } = await serve((_req, res) => {
      connections += 1;
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' });
      res.end(JSON.stringify({ error: { code: 'UNAUTHENTICATED', message: 'revoked key' } }));
    });
    servers.push(server);
    const refused: Array<[number, string]> = [];
    const source = new FetchEventSource(url, { headers: () => ({}), onRefused: (status, body) => refused.push([status, body]) });
    let errored = false;
    source.onerror = () => (errored = true);
    await until(() => errored);
    expect(source.readyState).toBe(2);
    expect(refused).toEqual([[401, JSON.stringify({ error: { code: 'UNAUTHENTICATED', message: 'revoked key' } })]]);
    await new Promise((r) => setTimeout(r, 50));
    expect(connections).toBe(1);
  });
});
