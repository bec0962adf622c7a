/**
 * Scaling out: two executor processes share one durable work queue; a plan of several
 * subtasks is carried out with every subtask done exactly once (one result, one commit each).
 */
import { realpathSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import {
  HealthClient,
  HealthCheckResponse_ServingStatus as Serving,
  LockEventSchema,
  Subjects,
  WorkFinishedEventSchema,
  type LockEvent,
  type WorkFinishedEvent,
} from '@maestro/contracts';
import { createGrpcClient } from '@maestro/runtime';
import { postJson, startE2eCluster, waitForTaskEnd, writeE2eScript, type E2eCluster } from './harness.js';
import { waitUntil } from '@maestro/testing';

jest.setTimeout(180_000);

const SUBTASKS = 5;

/** A script whose plan has SUBTASKS subtasks, each writing, testing and committing one file. */
function writeScript(): string {
  const names = Array.from({ length: SUBTASKS }, (_, i) => `part${i + 1}`);
  const plan = {
    subtasks: names.map((n, i) => ({
      id: `s${i + 1}`,
      title: `Create src/${n}.js`,
      instructions: `Export ${n}() returning ${i + 1}, with test/${n}.test.js.`,
      files: [`src/${n}.js`, `test/${n}.test.js`],
    })),
  };
  const code = names.map((n, i) => ({
    name: `code-${n}`,
    when: { intent: 'code', contains: `Create src/${n}.js` },
    turns: [
      {
        toolCalls: [
          { name: 'fs.write', arguments: { path: `src/${n}.js`, content: `export function ${n}() {\n  return ${i + 1};\n}\n` } },
          {
            name: 'fs.write',
            arguments: {
              path: `test/${n}.test.js`,
              content: `import { test } from 'node:test';\nimport assert from 'node:assert/strict';\nimport { ${n} } from '../src/${n}.js';\n\ntest('${n}', () => assert.equal(${n}(), ${i + 1}));\n`,
            },
          },
        ],
      },
      { toolCalls: [{ name: 'exec', arguments: { argv: ['node', '--test', `test/${n}.test.js`] } }] },
      { toolCalls: [{ name: 'git.commit', arguments: { message: `Add ${n}`, paths: [`src/${n}.js`, `test/${n}.test.js`] } }] },
      { content: `Added ${n}.` },
    ],
  }));
  return writeE2eScript('e2e: several subtasks over two executors', [
    { name: 'plan', when: { intent: 'plan' }, turns: [{ content: JSON.stringify(plan) }] },
    ...code,
    { name: 'review', when: { intent: 'review' }, turns: [{ content: JSON.stringify({ approved: true, summary: 'all parts added' }) }] },
  ]);
}

let e2e: E2eCluster;

beforeAll(async () => {
  // One subtask at a time per executor, so the queue has to spread the work over both.
  e2e = await startE2eCluster({ scriptPath: writeScript(), executors: 2, executorConcurrency: 1 });
});

afterAll(async () => {
  await e2e?.stop();
});

it('does every subtask exactly once across two executors', async () => {
  const finished: WorkFinishedEvent[] = [];
  const sub = e2e.bus.subscribe(Subjects.workFinished, WorkFinishedEventSchema, (event) => finished.push(event));
  const grants: LockEvent[] = [];
  const lockSub = e2e.bus.subscribe(Subjects.lockAcquired, LockEventSchema, (event) => grants.push(event));

  const task = await postJson(`${e2e.gateway}/v1/tasks`, { goal: 'Add the numbered parts, with tests.', repoPath: e2e.repo });
  const done = await waitForTaskEnd(e2e.gateway, String(task['id']));
  // A subtask's work.finished follows its result, so it may still be on its way to this
  // subscriber; then a moment more for a duplicate to show up.
  await waitUntil('a work.finished of every subtask', () => new Set(finished.map((e) => e.subtaskId)).size >= SUBTASKS);
  await new Promise((r) => setTimeout(r, 500));
  sub.unsubscribe();
  lockSub.unsubscribe();

  expect(done['status']).toBe('succeeded');
  const bySubtask = new Map<string, number>();
  for (const event of finished) bySubtask.set(event.subtaskId, (bySubtask.get(event.subtaskId) ?? 0) + 1);
  expect([...bySubtask.keys()].sort()).toEqual(Array.from({ length: SUBTASKS }, (_, i) => `s${i + 1}`));
  expect([...bySubtask.values()].every((n) => n === 1)).toBe(true);
  expect(finished.every((e) => e.ok)).toBe(true);
  expect(new Set(finished.map((e) => e.executorId))).toEqual(new Set(['executor-1', 'executor-2']));

  // Every subtask's commit is on the task's branch, merged; the user's branch did not move.
  const branch = `maestro/${String(task['id'])}`;
  const gitOut = (...args: string[]): string => execFileSync('git', args, { cwd: e2e.repo, encoding: 'utf8' }).trim();
  const commits = gitOut('log', '--no-merges', '--format=%s', `${e2e.baseSha}..${branch}`).split('\n');
  expect(commits.sort()).toEqual(Array.from({ length: SUBTASKS }, (_, i) => `Add part${i + 1}`).sort());
  for (let i = 1; i <= SUBTASKS; i++) expect(gitOut('cat-file', '-t', `${branch}:src/part${i}.js`)).toBe('blob');
  expect(gitOut('rev-parse', 'HEAD')).toBe(e2e.baseSha);
  expect(gitOut('status', '--porcelain')).toBe('');

  // Every file an agent wrote was locked through the lock-manager, by the executor that wrote
  // it, and so was the repository's git index for each commit.
  const repo = realpathSync(e2e.repo);
  const lockedBy = new Map<string, string>();
  for (const grant of grants) for (const concern of grant.concerns) lockedBy.set(concern, grant.owner);
  for (const event of finished) {
    const n = event.subtaskId.slice(1);
    for (const file of [`src/part${n}.js`, `test/part${n}.test.js`]) {
      expect(lockedBy.get(`file:${repo}/${file}`)).toMatch(new RegExp(`^executor:${event.executorId}:`));
    }
  }
  expect(grants.filter((g) => g.concerns.includes(`git-index:${repo}`))).toHaveLength(SUBTASKS);
});

it('every service process answers grpc.health.v1 Check and Watch with SERVING', async () => {
  const processes = e2e.cluster.running.filter((p) => !p.label.endsWith('-migrate'));
  expect(new Set(processes.map((p) => p.name)).size).toBe(7);
  for (const proc of processes) {
    const client = createGrpcClient(HealthClient, proc.grpcAddr, { deadlineMs: 5000 });
    try {
      expect((await client.call.check({ service: '' })).status).toBe(Serving.SERVING);
      const first = await new Promise<Serving>((resolve, reject) => {
        const call = client.raw.watch({ service: '' }, client.metadata());
        call.once('data', (m: { status: Serving }) => {
          resolve(m.status);
          call.cancel();
        });
        call.once('error', (err: { code?: number }) => (err.code === 1 ? undefined : reject(err)));
      });
      expect(first).toBe(Serving.SERVING);
    } finally {
      client.close();
    }
  }
});
