import { createFakeUpstreams, depsOf } from '../../../test/fakes/index.js';
import { serve } from '../../../test/serve.js';
import { authedFetch } from '../../../test/auth.js';

// Every request sends the test admin key (the app authenticates all but its public routes).
const fetch = authedFetch();

/** Reads the stream until `done` says enough, returning the text read. */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, done: (text: string) => boolean): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  while (!done(text)) {
    const chunk = await reader.read();
    if (chunk.done) break;
    text += decoder.decode(chunk.value, { stream: true });
  }
  return text;
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('GET /v1/events', () => {
  it('streams the lifecycle events of the caller\'s tenant\'s runs and tasks, not agent steps, with heartbeats', async () => {
    const fakes = createFakeUpstreams();
    const app = await serve(depsOf(fakes, { sseHeartbeatMs: 5_000 }));
    const abort = new AbortController();
    try {
      const response = await fetch(`${app.url}/v1/events`, { signal: abort.signal });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      await until(() => fakes.hub.lifecycleListenerCount === 1);
      fakes.hub.dispatch({ subject: 'maestro.events.run.started', payload: { runId: 'r1', tenant: 'default', definitionName: 'coding', seq: 1 } });
      fakes.hub.dispatch({ subject: 'maestro.events.work.step', payload: { runId: 'r1', tenant: 'default', step: 1 } });
      // Another tenant's, and one that names no tenant (whose it is cannot be told): not shown.
      fakes.hub.dispatch({ subject: 'maestro.events.task.updated', payload: { taskId: 't9', tenant: 'globex', status: 'running' } });
      fakes.hub.dispatch({ subject: 'maestro.events.task.updated', payload: { taskId: 't8', status: 'running' } });
      fakes.hub.dispatch({ subject: 'maestro.events.task.updated', payload: { taskId: 't1', tenant: 'default', status: 'running' } });
      fakes.hub.dispatch({ subject: 'maestro.events.run.finished', payload: { runId: 'r2', tenant: 'default', status: 'done' } });
      // The heartbeat runs on the injected clock: moving it sends one.
      fakes.clock.advance(5_000);
      const text = await readUntil(response.body!.getReader(), (t) => t.includes('run.finished') && t.includes(': heartbeat'));
      const events = [...text.matchAll(/event: (\S+)\ndata: (.*)\n/g)].map((m) => [m[1], JSON.parse(m[2]!)]);
      expect(events).toEqual([
        ['run.started', { runId: 'r1', tenant: 'default', definitionName: 'coding', seq: 1 }],
        ['task.updated', { taskId: 't1', tenant: 'default', status: 'running' }],
        ['run.finished', { runId: 'r2', tenant: 'default', status: 'done' }],
      ]);
    } finally {
      abort.abort();
      await app.close();
    }
  });

  it('sends a heartbeat per interval of the injected clock, and stops it when the client leaves', async () => {
    const fakes = createFakeUpstreams();
    const app = await serve(depsOf(fakes, { sseHeartbeatMs: 10_000 }));
    const abort = new AbortController();
    try {
      const response = await fetch(`${app.url}/v1/events`, { signal: abort.signal });
      await until(() => fakes.hub.lifecycleListenerCount === 1);
      expect(fakes.clock.pendingTimers).toBe(1);
      fakes.clock.advance(9_999);
      fakes.clock.advance(20_001);
      const reader = response.body!.getReader();
      const text = await readUntil(reader, (t) => (t.match(/: heartbeat/g) ?? []).length >= 3);
      expect(text.match(/: heartbeat/g)).toHaveLength(3);
      abort.abort();
      await until(() => fakes.hub.lifecycleListenerCount === 0);
      expect(fakes.clock.pendingTimers).toBe(0);
    } finally {
      abort.abort();
      await app.close();
    }
  });

  it('frees the subscription when the client disconnects', async () => {
    const fakes = createFakeUpstreams();
    const app = await serve(depsOf(fakes));
    try {
      const clients = [new AbortController(), new AbortController()];
      for (const client of clients) await fetch(`${app.url}/v1/events`, { signal: client.signal });
      await until(() => fakes.hub.lifecycleListenerCount === 2);
      clients[0]!.abort();
      await until(() => fakes.hub.lifecycleListenerCount === 1);
      clients[1]!.abort();
      await until(() => fakes.hub.lifecycleListenerCount === 0);
      // Nothing is written to a closed stream.
      fakes.hub.dispatch({ subject: 'maestro.events.run.started', payload: { runId: 'r1' } });
      expect(fakes.hub.lifecycleListenerCount).toBe(0);
    } finally {
      await app.close();
    }
  });

  it('ends open streams when the gateway closes', async () => {
    const fakes = createFakeUpstreams();
    const app = await serve(depsOf(fakes));
    const response = await fetch(`${app.url}/v1/events`);
    await until(() => fakes.hub.lifecycleListenerCount === 1);
    await app.close();
    const text = await readUntil(response.body!.getReader(), () => false);
    expect(text).toBe('');
    expect(fakes.hub.lifecycleListenerCount).toBe(0);
  });
});
