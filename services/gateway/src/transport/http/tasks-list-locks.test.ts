import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OperationalError, invalidField } from '@maestro/runtime';
import { TaskLimits } from '@maestro/contracts';
import { createFakeUpstreams, depsOf, type FakeUpstreams } from '../../../test/fakes/index.js';
import { RecordingLogger } from '../../../test/recording-logger.js';
import { serve, type ServedApp } from '../../../test/serve.js';
import { authedFetch } from '../../../test/auth.js';

// Every request sends the test admin key (the app authenticates all but its public routes).
const fetch = authedFetch();

let fakes: FakeUpstreams;
let app: ServedApp;
let repo: string;
let logger: RecordingLogger;
beforeEach(async () => {
  fakes = createFakeUpstreams();
  repo = mkdtempSync(join(tmpdir(), 'gateway-tasks-'));
  mkdirSync(join(repo, '.git'));
  logger = new RecordingLogger();
  app = await serve(depsOf(fakes, { logger }));
});
afterEach(async () => {
  await app.close();
});

async function get(path: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${app.url}${path}`);
  return { status: response.status, body: await response.json() };
}

async function submit(goal: string): Promise<string> {
  const task = await fakes.orchestrator.submitTask({ tenant: 'default', goal, repoPath: repo, testCommand: [], project: '', idempotencyKey: '', budget: undefined, workflow: '', memoryScopes: [] });
  return task.id;
}

describe('GET /v1/tasks', () => {
  it('finds tasks whose goal contains q, a page at a time, each with its cost so far', async () => {
    const verbose = await submit('Add a --verbose flag');
    await submit('Fix the parser');
    const quiet = await submit('Add a --QUIET flag');
    fakes.router.calls.push(
      { taskId: verbose, phase: 'plan', model: 'a/priced', inputTokens: 1000, outputTokens: 200, costUsd: 0.02, ok: true, latencyMs: 10 },
      { taskId: verbose, phase: 'code', model: 'b/unpriced', inputTokens: 500, outputTokens: 50, costUsd: undefined, ok: true, latencyMs: 10 },
    );
    const first = await get('/v1/tasks?q=ADD%20A&limit=1');
    expect(first.body.tasks.map((t: { id: string; usage: unknown }) => [t.id, t.usage])).toEqual([[quiet, { usd: 0, tokens: 0, unpriced: false }]]);
    const second = await get(`/v1/tasks?q=add%20a&limit=1&pageToken=${first.body.nextPageToken}`);
    expect(second.body.tasks.map((t: { id: string; usage: unknown }) => [t.id, t.usage])).toEqual([[verbose, { usd: 0.02, tokens: 1750, unpriced: true }]]);
    expect(second.body.nextPageToken).toBe('');
    // One router call per page, naming every task of it.
    expect(fakes.router.totalsRequests).toEqual([{ taskIds: [quiet] }, { taskIds: [verbose] }]);
  });

  it('asks the router once for a whole page', async () => {
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await submit(`goal ${i}`));
    const answer = await get('/v1/tasks?limit=5');
    expect(answer.body.tasks).toHaveLength(5);
    expect(fakes.router.totalsRequests).toEqual([{ taskIds: [...ids].reverse() }]);
  });

  it('keeps serving old callers (no paging parameters) and shows null usage when the router cannot say', async () => {
    const id = await submit('Add a flag');
    const other = await submit('Fix the parser');
    fakes.router.unavailableFor.add(id);
    expect(await get('/v1/tasks')).toEqual({
      status: 200,
      body: { tasks: [expect.objectContaining({ id: other, usage: null }), expect.objectContaining({ id, usage: null, subtasks: [] })], nextPageToken: '' },
    });
    const [line] = logger.find('task list shown without usage');
    expect(line).toEqual({ level: 'warn', message: 'task list shown without usage', fields: { tasks: 2, err: expect.any(OperationalError) } });
  });

  it('takes a q of the orchestrator\'s length at most, and names q when the orchestrator refuses it', async () => {
    const longest = 'x'.repeat(TaskLimits.goalContainsMaxChars);
    expect((await get(`/v1/tasks?q=${longest}`)).status).toBe(200);
    expect(await get(`/v1/tasks?q=${longest}x`)).toMatchObject({ status: 400, body: { error: { field: 'q' } } });
    fakes.orchestrator.listTasks = async () => {
      throw invalidField('goal_contains', 'must not hold a NUL character');
    };
    expect(await get('/v1/tasks?q=flag')).toEqual({
      status: 400,
      body: { error: { code: 'INVALID_ARGUMENT', message: 'q: must not hold a NUL character', field: 'q' } },
    });
  });
});

describe('GET /v1/locks', () => {
  it('shows the leases (fencing tokens as strings) and waiters of the tenant\'s tasks, filtered by concern prefix', async () => {
    const taskId = await submit('Add a flag');
    const elsewhere = await fakes.orchestrator.submitTask({ tenant: 'globex', goal: 'Not ours', repoPath: repo, testCommand: [], project: '', idempotencyKey: '', budget: undefined, workflow: '', memoryScopes: [] });
    fakes.locks.grant(`executor:executor-1:${taskId}:s1`, ['file:/srv/a/src/cli.ts'], 30_000);
    fakes.locks.grant(`executor:executor-2:${taskId}:s9`, ['file:/srv/b/README.md'], 30_000);
    fakes.locks.queue(`executor:executor-3:${taskId}:s2`, ['file:/srv/a/src/cli.ts'], 60_000);
    // Another tenant's task and an owner that names no task: not shown to this tenant.
    fakes.locks.grant(`executor:executor-4:${elsewhere.id}:s1`, ['file:/srv/a/src/other.ts'], 30_000);
    fakes.locks.grant('cli:alice', ['file:/srv/a/src/mine.ts'], 30_000);
    expect(await get('/v1/locks?prefix=file%3A%2Fsrv%2Fa%2F')).toEqual({
      status: 200,
      body: {
        leases: [
          {
            leaseId: 'lease-1', owner: `executor:executor-1:${taskId}:s1`, concerns: ['file:/srv/a/src/cli.ts'], sharedConcerns: [],
            fencingToken: '1', expiresAt: '2030-01-02T03:04:35.000Z',
          },
        ],
        waiters: [
          {
            requestId: 'request-1', owner: `executor:executor-3:${taskId}:s2`, concerns: ['file:/srv/a/src/cli.ts'], sharedConcerns: [],
            queuedAt: '2030-01-02T03:04:05.000Z', deadline: '2030-01-02T03:05:05.000Z',
          },
        ],
      },
    });
    expect((await get('/v1/locks')).body.leases).toHaveLength(2);
  });
});
