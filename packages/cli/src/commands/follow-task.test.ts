import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { ManualClock } from '@maestro/runtime';
import { readCliEnv } from '../cli-env.js';
import { GatewayClient, GatewayError } from '../gateway-client.js';
import type { TaskView } from '../run-view.js';
import type { CommandContext } from './context.js';
import { followTask } from './run.js';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/**
 * A real HTTP gateway stand-in: the run's stream says `run.finished` at once and ends; each read
 * of the task answers with the next of `answers` (the last one repeats).
 */
async function gatewayAnswering(answers: Array<{ status: number; body: unknown }>): Promise<{ server: Server; url: string; reads: () => number }> {
  let reads = 0;
  const server = createServer((req, res) => {
    if (req.url === '/v1/runs/r1/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('event: run.finished\ndata: {"status":"succeeded"}\n\n');
      return;
    }
    if (req.url === '/v1/tasks/t1') {
      const answer = answers[Math.min(reads++, answers.length - 1)]!;
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, reads: () => reads };
}

const task = (status: string): TaskView => ({ id: 't1', runId: 'r1', goal: 'g', status } as TaskView);
const unavailable = { status: 503, body: { error: { code: 'UNAVAILABLE', message: 'the orchestrator is unavailable' } } };

/** Runs followTask on a ManualClock, moving it on whenever the command waits, until it ends. */
async function follow(url: string, options: { finalStatusTimeoutMs: number; finalStatusPollMs: number; json?: boolean }): Promise<{ code: number | Error; out: string }> {
  const clock = new ManualClock(1_000_000);
  const out = new Capture();
  const ctx: CommandContext = { root: '/', env: readCliEnv({}), stdout: out, stderr: new Capture(), cwd: '/', interrupt: new AbortController().signal };
  let done = false;
  const { json = false, ...timing } = options;
  const following = followTask(new GatewayClient(url), task('running'), ctx, json, { clock, ...timing }).then(
    (code) => code,
    (e: unknown) => e as Error,
  );
  void following.finally(() => (done = true));
  for (let i = 0; i < 1000 && !done; i++) {
    await new Promise((r) => setTimeout(r, 5));
    clock.advance(options.finalStatusPollMs);
  }
  return { code: await following, out: out.text };
}

describe('maestro run: waiting for the final status after the run finished', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it('rides out a 503 and reports the outcome', async () => {
    const gw = await gatewayAnswering([unavailable, unavailable, { status: 200, body: task('succeeded') }]);
    server = gw.server;
    const result = await follow(gw.url, { finalStatusTimeoutMs: 10_000, finalStatusPollMs: 250 });
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/task +t1 succeeded/);
    expect(gw.reads()).toBeGreaterThanOrEqual(3);
  });

  it('gives up after the deadline with a message saying what to do, instead of looping for ever', async () => {
    const gw = await gatewayAnswering([{ status: 200, body: task('running') }]);
    server = gw.server;
    const result = await follow(gw.url, { finalStatusTimeoutMs: 2_000, finalStatusPollMs: 250 });
    expect(result.code).toBeInstanceOf(Error);
    expect((result.code as Error).message).toBe(
      'the run of task t1 finished, but the task is still "running" after 2s; look again with `maestro show t1`',
    );
  });

  it('names the failing read when the gateway keeps failing until the deadline', async () => {
    const gw = await gatewayAnswering([unavailable]);
    server = gw.server;
    const result = await follow(gw.url, { finalStatusTimeoutMs: 2_000, finalStatusPollMs: 250 });
    expect((result.code as Error).message).toBe(
      'the run of task t1 finished, but the task is not readable (the orchestrator is unavailable) after 2s; look again with `maestro show t1`',
    );
  });
});

describe('maestro run: a task that answered a question', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());
  const answer = "[scripted reply, not a model's answer] src/add.js exports one function, add(a, b).\nIt returns a + b; test/add.test.js checks it.";
  const answered = { ...task('succeeded'), workflow: 'explain', answer };

  it('prints the whole answer last, its lines lined up under the first', async () => {
    const gw = await gatewayAnswering([{ status: 200, body: answered }]);
    server = gw.server;
    const result = await follow(gw.url, { finalStatusTimeoutMs: 10_000, finalStatusPollMs: 250 });
    expect(result.code).toBe(0);
    const lines = result.out.trimEnd().split('\n');
    expect(lines.slice(-2)).toEqual([
      expect.stringMatching(/^\d\d:\d\d:\d\d answer   \[scripted reply, not a model's answer\] src\/add\.js exports one function, add\(a, b\)\.$/),
      '                  It returns a + b; test/add.test.js checks it.',
    ]);
  });

  it('puts the answer in the --json result, and \'\' there for a task without one', async () => {
    const gw = await gatewayAnswering([{ status: 200, body: answered }]);
    server = gw.server;
    const result = await follow(gw.url, { finalStatusTimeoutMs: 10_000, finalStatusPollMs: 250, json: true });
    const records = result.out.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.at(-1)).toMatchObject({ type: 'result', status: 'succeeded', answer, exitCode: 0 });
    server.close();

    const plain = await gatewayAnswering([{ status: 200, body: task('succeeded') }]);
    server = plain.server;
    const without = await follow(plain.url, { finalStatusTimeoutMs: 10_000, finalStatusPollMs: 250, json: true });
    expect(JSON.parse(without.out.trimEnd().split('\n').at(-1)!)).toMatchObject({ type: 'result', answer: '' });
  });
});

describe('maestro run: a stream the gateway ends because the credential lapsed', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it('fails with the 401 the gateway would give a new request, and does not reconnect', async () => {
    let streams = 0;
    server = createServer((req, res) => {
      if (req.url === '/v1/runs/r1/events') {
        streams++;
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end('event: run.started\ndata: {"state":"plan"}\n\nevent: unauthenticated\ndata: {"code":"UNAUTHENTICATED","message":"credentials revoked"}\n\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(task('running')));
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const result = await follow(url, { finalStatusTimeoutMs: 10_000, finalStatusPollMs: 250 });

    expect(result.code).toBeInstanceOf(GatewayError);
    expect(result.code).toMatchObject({ status: 401, code: 'UNAUTHENTICATED', message: 'credentials revoked' });
    expect(streams).toBe(1);
  });
});
