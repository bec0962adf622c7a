/**
 * Tenants over the real gRPC OrchestratorService (PostgreSQL, NATS, stand-in engine, router and
 * memory): a caller sees and acts on its own tenant's tasks only (another tenant's task is
 * NOT_FOUND like an unknown id), an empty tenant (an internal caller) sees every tenant's and
 * submits into `default`, idempotency keys are per tenant, and the task's tenant travels on: to
 * its run, to Orion's memory recall, and to the executor's work item.
 */
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { Subjects, type ActivityRequest, type ListTasksRequest, type SubmitTaskRequest } from '@maestro/contracts';
import { UserError } from '@maestro/runtime';
import { createGitRepo, startHarness, type Harness } from './harness.js';

let h: Harness;
let repo: { dir: string; remove(): Promise<void> };

const UNKNOWN_TASK = '7c9e6679-7425-40de-944b-e07fc1f90ae7';

beforeAll(async () => {
  h = await startHarness();
  h.router.replies.plan = JSON.stringify({ subtasks: [{ id: 's1', title: 'Create src/divide.js', instructions: 'Export divide(a, b).', files: ['src/divide.js'] }] });
  repo = await createGitRepo({ Makefile: 'test:\n\tnode --test\n', 'src/index.js': '' });
});

afterAll(async () => {
  await h?.close();
  await repo?.remove();
});

function submitRequest(tenant: string, fields: Partial<SubmitTaskRequest> = {}): SubmitTaskRequest {
  return { tenant, goal: 'Add a divide helper', repoPath: repo.dir, testCommand: [], project: 'calc', idempotencyKey: '', budget: undefined, workflow: '', memoryScopes: [], ...fields };
}

function listRequest(tenant: string): ListTasksRequest {
  return { tenant, limit: 500, status: '', goalContains: '', pageToken: '' };
}

async function rejection(promise: Promise<unknown>): Promise<UserError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  return err as UserError;
}

function activityRequest(taskId: string, runId: string, activity: string): ActivityRequest {
  return {
    workId: `${runId}:${activity}:1`, runId, state: activity, activity, attempt: 1,
    context: { input: { taskId } }, requestedAt: new Date().toISOString(),
  };
}

describe('OrchestratorService tenants', () => {
  it("answers another tenant's task exactly like an unknown id, and leaves it untouched", async () => {
    const task = await h.client.call.submitTask(submitRequest('tenant-a', { goal: 'Add a multiply helper' }));
    expect(task.tenant).toBe('tenant-a');
    expect(await h.client.call.getTask({ tenant: 'tenant-a', taskId: task.id })).toMatchObject({ id: task.id, tenant: 'tenant-a' });

    const unknown = await rejection(h.client.call.getTask({ tenant: 'tenant-b', taskId: UNKNOWN_TASK }));
    const foreign = await rejection(h.client.call.getTask({ tenant: 'tenant-b', taskId: task.id }));
    expect((foreign.cause as ServiceError).code).toBe(GrpcStatus.NOT_FOUND);
    expect(foreign.code).toBe(unknown.code);
    expect(foreign.message).toBe(unknown.message.replace(UNKNOWN_TASK, task.id));

    const events = h.workflow.events.length;
    const cancel = await rejection(h.client.call.cancelTask({ tenant: 'tenant-b', taskId: task.id, reason: 'not yours' }));
    expect((cancel.cause as ServiceError).code).toBe(GrpcStatus.NOT_FOUND);
    expect(cancel.message).toBe(unknown.message.replace(UNKNOWN_TASK, task.id));
    const steps = await rejection(h.client.call.listAgentSteps({ tenant: 'tenant-b', taskId: task.id, runId: '', subtaskId: '', limit: 0, after: '' }));
    expect((steps.cause as ServiceError).code).toBe(GrpcStatus.NOT_FOUND);
    expect(h.workflow.events).toHaveLength(events);
    expect((await h.client.call.getTask({ tenant: 'tenant-a', taskId: task.id })).status).not.toBe('cancelled');

    expect(await h.client.call.cancelTask({ tenant: 'tenant-a', taskId: task.id, reason: 'mine' })).toMatchObject({ status: 'cancelled' });
    expect(h.workflow.events.at(-1)).toMatchObject({ tenant: 'tenant-a', runId: task.runId, type: 'CANCEL' });
  });

  it("lists a tenant's own tasks only; an empty tenant sees every tenant's and submits into default", async () => {
    const a = await h.client.call.submitTask(submitRequest('list-a', { goal: 'Add a listed helper' }));
    const b = await h.client.call.submitTask(submitRequest('list-b', { goal: 'Add a listed helper' }));
    const internal = await h.client.call.submitTask(submitRequest('', { goal: 'Add a listed helper' }));
    expect(internal.tenant).toBe('default');

    const ids = async (tenant: string) => (await h.client.call.listTasks(listRequest(tenant))).tasks.map((t) => t.id);
    expect(await ids('list-a')).toEqual([a.id]);
    expect(await ids('list-b')).toEqual([b.id]);
    expect(await ids('list-c')).toEqual([]);
    expect(await ids('default')).toContain(internal.id);
    expect(await ids('default')).not.toContain(a.id);
    expect(await ids('')).toEqual(expect.arrayContaining([a.id, b.id, internal.id]));
    expect(await h.client.call.getTask({ tenant: '', taskId: b.id })).toMatchObject({ tenant: 'list-b' });
  });

  it('keeps idempotency keys per tenant: another tenant with the same key gets a task of its own', async () => {
    const a = await h.client.call.submitTask(submitRequest('idem-a', { idempotencyKey: 'deploy-42' }));
    const b = await h.client.call.submitTask(submitRequest('idem-b', { idempotencyKey: 'deploy-42' }));
    expect(b.id).not.toBe(a.id);
    expect(b.tenant).toBe('idem-b');
    expect((await h.client.call.submitTask(submitRequest('idem-a', { idempotencyKey: 'deploy-42' }))).id).toBe(a.id);
    expect((await h.client.call.submitTask(submitRequest('idem-b', { idempotencyKey: 'deploy-42' }))).id).toBe(b.id);
  });

  it("starts the task's run, recalls for its plan and publishes its work in the task's tenant", async () => {
    const task = await h.client.call.submitTask(submitRequest('carry-a', { goal: 'Add a carried helper' }));
    expect(h.workflow.starts.find((s) => s.idempotencyKey === task.id)).toMatchObject({ tenant: 'carry-a', definitionName: 'coding' });

    const plan = activityRequest(task.id, task.runId, 'plan');
    await h.bus.publish(Subjects.activityRequest('orchestrator', 'plan'), plan, { msgId: plan.workId });
    await h.results.waitFor((rs) => rs.some((r) => r.workId === plan.workId), 'the plan result');
    expect(h.memory.recalls.filter((r) => r.query.includes('Add a carried helper')).map((r) => r.tenant)).toEqual(['carry-a']);

    const code = activityRequest(task.id, task.runId, 'code');
    await h.bus.publish(Subjects.activityRequest('orchestrator', 'code'), code, { msgId: code.workId });
    const work = await h.subtaskWork.waitFor((ws) => ws.some((w) => w.workId === `${task.id}:s1:1`), 's1 dispatched');
    expect(work.find((w) => w.workId === `${task.id}:s1:1`)?.tenant).toBe('carry-a');

    // Another tenant asking for the run's steps sees none, as for a run it does not know.
    const theirs = await h.client.call.listAgentSteps({ tenant: 'carry-b', taskId: '', runId: task.runId, subtaskId: '', limit: 0, after: '' });
    expect(theirs.steps).toEqual([]);
    const mine = await h.client.call.listAgentSteps({ tenant: 'carry-a', taskId: '', runId: task.runId, subtaskId: '', limit: 0, after: '' });
    expect(mine.steps.length).toBeGreaterThan(0);
  });

  it('refuses a tenant that is not a tenant name with INVALID_ARGUMENT naming tenant', async () => {
    for (const tenant of ['Upper', '-dash', 'white space', 'y'.repeat(64)]) {
      const calls: Array<Promise<unknown>> = [
        h.client.call.submitTask(submitRequest(tenant)),
        h.client.call.getTask({ tenant, taskId: UNKNOWN_TASK }),
        h.client.call.listTasks(listRequest(tenant)),
        h.client.call.cancelTask({ tenant, taskId: UNKNOWN_TASK, reason: '' }),
        h.client.call.listAgentSteps({ tenant, taskId: UNKNOWN_TASK, runId: '', subtaskId: '', limit: 0, after: '' }),
      ];
      for (const call of calls) {
        const err = await rejection(call);
        expect({ field: err.field, reason: err.reason }).toEqual({ field: 'tenant', reason: 'invalid' });
        expect(err.message).toContain('tenant:');
      }
    }
  });
});
