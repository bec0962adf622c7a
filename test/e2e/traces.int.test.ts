/**
 * One trace per task: a task submitted through the gateway is followed by every service it
 * touches (gateway → orchestrator → workflow-engine → executor → router, over gRPC and NATS),
 * and every span that names the task (`maestro.task_id`) lands in the same trace. Two tasks run
 * at the same time on one executor stay apart: no trace holds spans of both (the executor's step
 * outbox once published every step under the trace of whichever task started its sender). The
 * cluster exports to an in-process OTLP/HTTP receiver (the exporter sends JSON to
 * `POST /v1/traces`); the services flush their spans when the cluster is stopped gracefully.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { postJson, startE2eCluster, waitForTaskEnd, writeE2eScript, type E2eCluster } from './harness.js';

jest.setTimeout(360_000);

/** A span as the OTLP JSON encoding carries it (ids in hex). */
interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, string | number | boolean>;
}

const SpanKinds = { server: 2, consumer: 5 } as const;

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
}

interface OtlpExport {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: Array<{
      spans?: Array<{ traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes?: OtlpAttribute[] }>;
    }>;
  }>;
}

function attributesOf(list: OtlpAttribute[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of list ?? []) {
    const v = value.stringValue ?? value.boolValue ?? value.doubleValue ?? (value.intValue !== undefined ? Number(value.intValue) : undefined);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** Flattens one OTLP JSON export into spans tagged with their resource's service.name. */
function spansOf(body: OtlpExport): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of body.resourceSpans ?? []) {
    const service = String(attributesOf(resourceSpans.resource?.attributes)['service.name'] ?? 'unknown');
    for (const scope of resourceSpans.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        spans.push({
          service,
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId ?? '',
          name: span.name,
          kind: span.kind,
          attributes: attributesOf(span.attributes),
        });
      }
    }
  }
  return spans;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
}

/** An OTLP/HTTP trace receiver keeping every span it is sent. */
async function startOtlpReceiver(): Promise<{ url: string; spans: ReceivedSpan[]; problems: string[]; close(): Promise<void> }> {
  const spans: ReceivedSpan[] = [];
  const problems: string[] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      const type = String(req.headers['content-type'] ?? '');
      const body = await readBody(req);
      if (!type.startsWith('application/json')) {
        problems.push(`unexpected content-type ${type}`);
        res.writeHead(415).end();
        return;
      }
      spans.push(...spansOf(JSON.parse(body.toString('utf8')) as OtlpExport));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    })().catch((err: unknown) => {
      problems.push(err instanceof Error ? err.message : String(err));
      res.writeHead(400).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    problems,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The two tasks run at the same time: each one subtask writing its own file, told apart by goal. */
const pairs = [
  { name: 'pairA', file: 'pair-a', value: 2 },
  { name: 'pairB', file: 'pair-b', value: 3 },
] as const;
const pairGoal = (pair: (typeof pairs)[number]): string => `Add ${pair.name}(), with a test.`;

/** A plan rule and a code rule for one of the concurrent tasks. */
function pairRules(pair: (typeof pairs)[number]): unknown[] {
  const { name, file, value } = pair;
  const plan = { subtasks: [{ id: 's1', title: `Create src/${file}.js`, instructions: `Export ${name}() returning ${value}, with a test.`, files: [`src/${file}.js`, `test/${file}.test.js`] }] };
  return [
    { name: `plan-${file}`, when: { intent: 'plan', contains: pairGoal(pair) }, turns: [{ content: JSON.stringify(plan) }] },
    {
      name: `code-${file}`,
      when: { intent: 'code', contains: `Create src/${file}.js` },
      turns: [
        {
          toolCalls: [
            { name: 'fs.write', arguments: { path: `src/${file}.js`, content: `export function ${name}() {\n  return ${value};\n}\n` } },
            {
              name: 'fs.write',
              arguments: {
                path: `test/${file}.test.js`,
                content: `import { test } from 'node:test';\nimport assert from 'node:assert/strict';\nimport { ${name} } from '../src/${file}.js';\n\ntest('${name}', () => assert.equal(${name}(), ${value}));\n`,
              },
            },
          ],
        },
        { toolCalls: [{ name: 'exec', arguments: { argv: ['node', '--test', `test/${file}.test.js`] } }] },
        { toolCalls: [{ name: 'git.commit', arguments: { message: `Add ${name}`, paths: [`src/${file}.js`, `test/${file}.test.js`] } }] },
        { content: `Added ${name}.` },
      ],
    },
  ];
}

/** One subtask, written, tested and committed by the scripted tactical model (and the two concurrent tasks' own). */
function writeScript(): string {
  const plan = { subtasks: [{ id: 's1', title: 'Create src/traced.js', instructions: 'Export traced() returning 1, with a test.', files: ['src/traced.js', 'test/traced.test.js'] }] };
  return writeE2eScript('e2e: one traced task', [
    // The concurrent tasks' rules first: the first rule that matches replies.
    ...pairs.flatMap(pairRules),
    { name: 'plan', when: { intent: 'plan' }, turns: [{ content: JSON.stringify(plan) }] },
    {
      name: 'code',
      when: { intent: 'code', contains: 'Create src/traced.js' },
      turns: [
        {
          toolCalls: [
            { name: 'fs.write', arguments: { path: 'src/traced.js', content: 'export function traced() {\n  return 1;\n}\n' } },
            {
              name: 'fs.write',
              arguments: {
                path: 'test/traced.test.js',
                content: "import { test } from 'node:test';\nimport assert from 'node:assert/strict';\nimport { traced } from '../src/traced.js';\n\ntest('traced', () => assert.equal(traced(), 1));\n",
              },
            },
          ],
        },
        { toolCalls: [{ name: 'exec', arguments: { argv: ['node', '--test', 'test/traced.test.js'] } }] },
        { toolCalls: [{ name: 'git.commit', arguments: { message: 'Add traced', paths: ['src/traced.js', 'test/traced.test.js'] } }] },
        { content: 'Added traced.' },
      ],
    },
    { name: 'review', when: { intent: 'review' }, turns: [{ content: JSON.stringify({ approved: true, summary: 'traced added' }) }] },
  ]);
}

let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
let e2e: E2eCluster | undefined;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  e2e = await startE2eCluster({
    scriptPath: writeScript(),
    executors: 1,
    // Metrics off: their fixed default ports would collide with other clusters on this machine.
    env: { MAESTRO_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '200', MAESTRO_METRICS_PORT: '0' },
  });
});

afterAll(async () => {
  await e2e?.stop();
  await receiver?.close();
});

/** Spans per service, as one line each. */
function countByService(spans: readonly ReceivedSpan[]): string {
  const counts = new Map<string, number>();
  for (const span of spans) counts.set(span.service, (counts.get(span.service) ?? 0) + 1);
  return [...counts].map(([service, n]) => `  ${service}: ${n}`).join('\n') || '  none';
}

/** The one trace holding every span that names `taskId`; fails listing the traces when there are several. */
function traceOfTask(taskId: string): ReceivedSpan[] {
  const taskSpans = receiver.spans.filter((s) => s.attributes['maestro.task_id'] === taskId);
  expect(taskSpans.length).toBeGreaterThan(0);
  const traceIds = [...new Set(taskSpans.map((s) => s.traceId))];
  const byTrace = traceIds.map((id) => ({ traceId: id, spans: taskSpans.filter((s) => s.traceId === id).map((s) => `${s.service}: ${s.name}`) }));
  expect(byTrace.length === 1 ? 'one trace' : byTrace).toBe('one trace');
  const trace = receiver.spans.filter((s) => s.traceId === traceIds[0]);
  // eslint-disable-next-line no-console
  console.log(`trace ${traceIds[0]} of task ${taskId}: ${trace.length} spans\n${countByService(trace)}`);
  return trace;
}

/** The trace starts at the gateway's HTTP request, and no span's parent is missing from it. */
function expectGatewayRoot(trace: readonly ReceivedSpan[]): void {
  const ids = new Set(trace.map((s) => s.spanId));
  const roots = trace.filter((s) => s.parentSpanId === '' || !ids.has(s.parentSpanId));
  expect(roots.map((s) => `${s.service}: ${s.name}`)).toEqual(['gateway: POST /v1/tasks']);
}

const firstTask = { id: '' };
const restartedTask = { id: '' };
const concurrentTasks: string[] = [];

it('runs a task to success', async () => {
  const cluster = e2e!;
  const submitted = await postJson(`${cluster.gateway}/v1/tasks`, { goal: 'Add traced(), with a test.', repoPath: cluster.repo });
  firstTask.id = String(submitted['id']);
  expect((await waitForTaskEnd(cluster.gateway, firstTask.id))['status']).toBe('succeeded');
});

it('runs two tasks at the same time on one executor', async () => {
  const cluster = e2e!;
  const submitted = await Promise.all(pairs.map((pair) => postJson(`${cluster.gateway}/v1/tasks`, { goal: pairGoal(pair), repoPath: cluster.repo })));
  concurrentTasks.push(...submitted.map((task) => String(task['id'])));
  const ended = await Promise.all(concurrentTasks.map((id) => waitForTaskEnd(cluster.gateway, id)));
  expect(ended.map((task) => task['status'])).toEqual(['succeeded', 'succeeded']);
});

it('runs a task whose run is started only by a restarted orchestrator', async () => {
  const cluster = e2e!;
  const running = (name: string) => cluster.cluster.running.filter((p) => p.name === name);
  const stop = async (name: string): Promise<void> => {
    for (const proc of running(name)) {
      proc.kill('SIGTERM');
      await proc.exited;
    }
  };
  // The engine is down at submit: the task is stored pending, without a run.
  await stop('workflow-engine');
  const submitted = await postJson(`${cluster.gateway}/v1/tasks`, { goal: 'Add traced() again, with a test.', repoPath: cluster.repo });
  restartedTask.id = String(submitted['id']);
  expect(submitted['runId'] ?? '').toBe('');
  // The orchestrator that took the call goes away; its successor starts the run from nothing
  // but the stored task (resumeUnstarted), long after the HTTP request ended.
  await stop('orchestrator');
  await cluster.cluster.start('workflow-engine');
  await cluster.cluster.start('orchestrator');
  expect((await waitForTaskEnd(cluster.gateway, restartedTask.id))['status']).toBe('succeeded');
});

it('puts each task in one trace across every service, over gRPC and NATS', async () => {
  // A graceful stop makes every service flush its batch of spans before it exits.
  await e2e!.stop();
  e2e = undefined;
  expect(receiver.problems).toEqual([]);
  // eslint-disable-next-line no-console
  console.log(`spans received:\n${countByService(receiver.spans)}`);

  const trace = traceOfTask(firstTask.id);
  const services = [...new Set(trace.map((s) => s.service))];
  expect(services).toEqual(expect.arrayContaining(['gateway', 'orchestrator', 'workflow-engine', 'executor', 'router']));
  const grpcServers = trace.filter((s) => s.kind === SpanKinds.server && s.attributes['rpc.system'] === 'grpc');
  const natsConsumers = trace.filter((s) => s.kind === SpanKinds.consumer && s.name.startsWith('nats.consume '));
  expect(grpcServers.map((s) => s.service)).toEqual(expect.arrayContaining(['orchestrator', 'workflow-engine', 'router']));
  expect(natsConsumers.map((s) => s.service)).toEqual(expect.arrayContaining(['orchestrator', 'executor', 'workflow-engine']));
  expectGatewayRoot(trace);

  // The run a restarted orchestrator started (no request in sight) is still in the task's trace.
  const restarted = traceOfTask(restartedTask.id);
  expect([...new Set(restarted.map((s) => s.service))]).toEqual(
    expect.arrayContaining(['gateway', 'orchestrator', 'workflow-engine', 'executor', 'router']),
  );
  expectGatewayRoot(restarted);

  // Two tasks at once: each in one trace of its own, with the executor's step publishes (the
  // orchestrator's consume of each step names the step's task), and no trace names two tasks.
  for (const id of concurrentTasks) {
    const trace = traceOfTask(id);
    expectGatewayRoot(trace);
    expect(trace.filter((s) => s.service === 'orchestrator' && s.name === 'nats.consume maestro.events.work.step').length).toBeGreaterThan(0);
  }
  const tasksByTrace = new Map<string, Set<string>>();
  for (const span of receiver.spans) {
    const taskId = span.attributes['maestro.task_id'];
    if (typeof taskId !== 'string') continue;
    tasksByTrace.set(span.traceId, (tasksByTrace.get(span.traceId) ?? new Set()).add(taskId));
  }
  const mixed = [...tasksByTrace].filter(([, tasks]) => tasks.size > 1).map(([traceId, tasks]) => ({ traceId, tasks: [...tasks] }));
  expect(mixed).toEqual([]);
});
