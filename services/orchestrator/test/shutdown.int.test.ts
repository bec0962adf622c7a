/**
 * Stopping Orion is bounded: activities in flight get the drain time to finish, then their
 * model calls are cancelled and their requests handed back to the queue, where another
 * replica picks them up. Real NATS, PostgreSQL and gRPC.
 */
import { Subjects, type ActivityRequest } from '@maestro/contracts';
import { createGitRepo, eventually, startHarness, type Harness } from './harness.js';

let h: Harness;
let repo: { dir: string; remove(): Promise<void> };

const PLAN = { subtasks: [{ id: 's1', title: 'Add multiply', instructions: 'Export multiply(a, b)', files: ['src/math.js'] }] };

beforeAll(async () => {
  // A short drain, so the held model call below outlasts it.
  h = await startHarness({ drainTimeoutMs: 200 });
  repo = await createGitRepo({ Makefile: 'test:\n\tnode --test\n', 'src/math.js': '' });
});

afterAll(async () => {
  await h?.close();
  await repo?.remove();
});

it('cancels a model call still running when the drain time is up and hands its request to another replica', async () => {
  h.router.replies.plan = JSON.stringify(PLAN);
  h.router.hold = true;
  const task = await h.client.call.submitTask({ tenant: '', goal: 'Add multiply', repoPath: repo.dir, testCommand: [], project: '', idempotencyKey: '', budget: undefined, workflow: '', memoryScopes: [] });
  const request: ActivityRequest = {
    workId: `${task.runId}:plan:1`, runId: task.runId, state: 'plan', activity: 'plan', attempt: 1,
    context: { input: { taskId: task.id } }, requestedAt: new Date().toISOString(),
  };
  await h.bus.publish(Subjects.activityRequest('orchestrator', 'plan'), request, { msgId: request.workId });
  await eventually(() => h.router.calls.filter((c) => c.taskId === task.id).length, (n) => n === 1, 'the plan model call');

  // Without a drain bound this waits for the model (up to its 180 s deadline).
  await h.orchestrator.stop();
  // The router sees the call cancelled (it stops paying for the model) soon after.
  await eventually(() => h.router.cancelled.map((c) => c.taskId), (ids) => ids.includes(task.id), 'the router to see the cancel');
  expect(h.logs.some((l) => l.level === 'warn' && l.message === 'drain timed out; handing in-flight activity requests back')).toBe(true);
  // Handed back, not failed: no result was published for the request.
  expect(h.published.filter((p) => p.subject === Subjects.activityResult && p.msgId === request.workId)).toEqual([]);

  // Another replica takes the request over and completes it.
  h.router.release();
  await h.startReplica();
  const results = await h.results.waitFor((rs) => rs.some((r) => r.workId === request.workId), 'the plan result from the second replica');
  expect(results.filter((r) => r.workId === request.workId)).toEqual([
    expect.objectContaining({ ok: true, output: expect.objectContaining({ subtasks: [expect.objectContaining({ id: 's1' })] }) }),
  ]);
  expect(h.router.calls.filter((c) => c.taskId === task.id)).toHaveLength(2);
});
