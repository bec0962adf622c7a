/**
 * Requests for the OpenAPI walk test: for every documented operation, a valid request against
 * the seeded fakes and, where the operation takes input, a bad one with the field its 400 must
 * name. Seeding plays what the real services would hold after some work.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Subtask, TaskEscalation } from '@maestro/contracts';
import { parseApiKey } from '../src/auth/api-key.js';
import type { FakeUpstreams } from './fakes/index.js';

/** A request: path parameters filled in, query and JSON body. */
export interface ExampleRequest {
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
}

/** The examples of one operation (`GET /v1/tasks/{id}`). */
export interface OperationExamples {
  valid: ExampleRequest;
  /** Absent for operations without input. */
  bad?: ExampleRequest & { field: string };
}

/** Seeds the fakes and returns the examples, keyed `METHOD /path/{param}` as in the document. */
export async function seedAndDescribe(fakes: FakeUpstreams): Promise<Record<string, OperationExamples>> {
  const repo = mkdtempSync(join(tmpdir(), 'gateway-walk-'));
  mkdirSync(join(repo, '.git'));
  const coding = {
    id: 'coding',
    initial: 'plan',
    states: { plan: { on: { PLANNED: 'approve' } }, approve: { on: { APPROVED: 'done', REJECTED: 'plan' } }, done: { type: 'final' } },
  };
  await fakes.workflow.putDefinition({ tenant: 'default', name: 'coding', definition: coding });
  await fakes.workflow.putDefinition({ tenant: 'default', name: 'coding', definition: { ...coding, states: { ...coding.states, plan: { on: { PLANNED: 'done' } } } } });
  const run = await fakes.workflow.startRun('coding', { goal: 'add a flag' }, 1);
  await fakes.workflow.sendEvent({ tenant: 'default', runId: run.id, type: 'PLANNED', payload: {} });
  const task = await fakes.orchestrator.submitTask({
    tenant: 'default', goal: 'Add a --verbose flag', repoPath: repo, testCommand: ['npm', 'test'], project: 'demo', idempotencyKey: '', budget: undefined, workflow: '',
    memoryScopes: ['user:alice'],
  });
  // What the orchestrator holds once Orion planned and an executor ran the first subtask.
  Object.assign(task, {
    runId: run.id,
    status: 'running',
    intent: 'feature',
    intentConfidence: 0.9,
    intentReason: 'adds a flag',
    subtasks: [
      Subtask.fromPartial({
        id: 's1', title: 'Add the flag', instructions: 'Parse --verbose', files: ['src/cli.ts'], status: 'succeeded', summary: 'added',
        commitSha: 'abc123', filesChanged: ['src/cli.ts'], concerns: [`file:${repo}/src/cli.ts`],
        executorId: 'executor-1', worktree: `${repo}/.maestro/worktrees/s1`, verdict: 'passed: npm test exited 0',
      }),
      Subtask.fromPartial({ id: 's2', title: 'Document it', files: ['README.md'], status: 'pending', dependsOn: ['s1'] }),
    ],
  });
  fakes.orchestrator.recordStep({
    taskId: task.id, runId: run.id, subtaskId: 's1', executorId: 'executor-1', step: 0, kind: 'model', summary: 'deepseek/deepseek-chat: writing it', ok: true, attempt: 1,
    modelCall: { provider: 'deepseek', model: 'deepseek-chat', scripted: false, inputTokens: 1200, cachedInputTokens: 800, outputTokens: 90, reasoningTokens: 0, usd: 0.0004, priced: true },
    durationMs: 1850,
  });
  fakes.orchestrator.recordStep({
    taskId: task.id, runId: run.id, subtaskId: 's1', executorId: 'executor-1', step: 1, kind: 'tool', tool: 'fs.write', summary: 'wrote src/cli.ts', ok: true, attempt: 1,
    durationMs: 4, arguments: '{"path":"src/cli.ts","content":"…"}', observation: 'wrote src/cli.ts (12 lines)',
  });
  task.escalations = [
    TaskEscalation.fromPartial({
      escalationId: `${task.id}:s2:1`, subtaskId: 's2', attempt: 1, reason: 'tests_failed', decision: 'hint', decisionReason: 'the README example is stale', at: new Date(0),
      packet: { reason: 'tests_failed', steps: 3, lastDiff: '', failingTestOutput: 'README example fails', agentAccount: 'done', filesChanged: [], attempts: [] },
    }),
  ];
  fakes.router.calls.push({ taskId: task.id, phase: 'plan', model: 'openai/gpt-x', inputTokens: 1200, outputTokens: 300, costUsd: 0.01, ok: true, latencyMs: 900 });
  fakes.locks.grant(`executor:executor-1:${task.id}:s1`, [`file:${repo}/src/cli.ts`], 30_000);
  fakes.locks.queue(`executor:executor-2:${task.id}:s2`, [`file:${repo}/src/cli.ts`], 60_000);
  const memory = await fakes.memory.remember({ tenant: 'default', project: 'demo', kind: 'preference', content: 'use pnpm, never npm', tags: ['tooling'], scope: '', pinned: false, expiresAt: undefined });
  const forgettable = await fakes.memory.remember({ tenant: 'default', project: 'demo', kind: 'project', content: 'tests run with npm test', tags: [], scope: '', pinned: false, expiresAt: undefined });
  const cancellable = await fakes.workflow.startRun('coding');
  const otherTask = await fakes.orchestrator.submitTask({
    tenant: 'default', goal: 'Fix the parser', repoPath: repo, testCommand: [], project: '', idempotencyKey: '', budget: undefined, workflow: '', memoryScopes: [],
  });

  const revocable = parseApiKey(await fakes.auth.keyFor(['read']))!.keyId;

  return {
    'POST /v1/keys': {
      valid: { body: { name: 'ci pipeline', scopes: ['read', 'submit'] } },
      bad: { body: { name: 'ci pipeline', scopes: [] }, field: 'scopes' },
    },
    'GET /v1/keys': { valid: {} },
    'DELETE /v1/keys/{id}': { valid: { params: { id: revocable } }, bad: { params: { id: 'not-a-key' }, field: 'id' } },
    'GET /healthz': { valid: {} },
    'GET /openapi.json': { valid: {} },
    'GET /docs': { valid: {} },
    'POST /v1/tasks': {
      valid: { body: { goal: 'Rename the config module', repoPath: repo, budget: { usd: 2 }, memoryScopes: ['user:alice', 'team:core'] } },
      bad: { body: { goal: 'x', repoPath: repo, budget: { tokens: -1 } }, field: 'budget.tokens' },
    },
    'GET /v1/tasks': { valid: { query: { q: 'VERBOSE', limit: '10' } }, bad: { query: { status: 'finished' }, field: 'status' } },
    'GET /v1/tasks/{id}': { valid: { params: { id: task.id } }, bad: { params: { id: 'no/such' }, field: 'id' } },
    'GET /v1/tasks/{id}/steps': { valid: { params: { id: task.id }, query: { subtaskId: 's1' } }, bad: { params: { id: task.id }, query: { limit: '0' }, field: 'limit' } },
    'POST /v1/tasks/{id}/cancel': { valid: { params: { id: otherTask.id }, body: { reason: 'not needed' } }, bad: { params: { id: otherTask.id }, body: { why: 'x' }, field: 'why' } },
    'GET /v1/models/stats': { valid: { query: { phase: 'plan' } }, bad: { query: { phase: 'dream' }, field: 'phase' } },
    'GET /v1/runs': { valid: { query: { definition: 'coding', version: '1' } }, bad: { query: { limit: '501' }, field: 'limit' } },
    'GET /v1/runs/{id}': { valid: { params: { id: run.id } }, bad: { params: { id: '-bad' }, field: 'id' } },
    'GET /v1/runs/{id}/history': { valid: { params: { id: run.id }, query: { afterSeq: '1' } }, bad: { params: { id: run.id }, query: { afterSeq: '-1' }, field: 'afterSeq' } },
    'POST /v1/runs/{id}/events': {
      valid: { params: { id: run.id }, body: { type: 'APPROVED', payload: { by: 'alice' } } },
      bad: { params: { id: run.id }, body: { type: 'xstate.init' }, field: 'type' },
    },
    'POST /v1/runs/{id}/cancel': { valid: { params: { id: cancellable.id }, body: { reason: 'superseded' } }, bad: { params: { id: cancellable.id }, body: { reason: 5 }, field: 'reason' } },
    'GET /v1/runs/{id}/events': { valid: { params: { id: cancellable.id } }, bad: { params: { id: 'a b' }, field: 'id' } },
    'GET /v1/definitions': { valid: {} },
    'GET /v1/definitions/{name}': { valid: { params: { name: 'coding' }, query: { version: '1' } }, bad: { params: { name: 'coding' }, query: { version: 'one' }, field: 'version' } },
    'PUT /v1/definitions/{name}': {
      valid: { params: { name: 'review' }, body: { id: 'review', initial: 'review', states: { review: { on: { DONE: 'done' } }, done: { type: 'final' } } } },
      bad: { params: { name: 'review' }, body: { id: 'review', initial: 'review', states: { review: { on: { DONE: 'finished' } } } }, field: 'states.review.on.DONE' },
    },
    'GET /v1/definitions/{name}/versions': { valid: { params: { name: 'coding' } }, bad: { params: { name: '9lives' }, field: 'name' } },
    'GET /v1/definitions/{name}/diff': { valid: { params: { name: 'coding' }, query: { from: '1', to: '2' } }, bad: { params: { name: 'coding' }, query: { from: '1' }, field: 'to' } },
    'GET /v1/definitions/{name}/runs': { valid: { params: { name: 'coding' }, query: { status: 'running' } }, bad: { params: { name: 'coding' }, query: { definition: 'x' }, field: 'definition' } },
    'GET /v1/locks': { valid: { query: { prefix: `file:${repo}` } }, bad: { query: { prefix: '' }, field: 'prefix' } },
    'GET /v1/events': { valid: {} },
    'POST /v1/memories': {
      valid: { body: { project: 'demo', kind: 'project', content: 'the CLI lives in src/cli.ts' } },
      bad: { body: { project: 'demo', kind: 'rumour', content: 'x' }, field: 'kind' },
    },
    'GET /v1/memories': { valid: { query: { project: 'demo', query: 'pnpm' } }, bad: { query: { query: 'pnpm' }, field: 'project' } },
    'POST /v1/memories/recall': { valid: { body: { project: 'demo', query: 'npm' } }, bad: { body: { project: 'demo', query: 'npm', scopes: [''] }, field: 'scopes.0' } },
    'PATCH /v1/memories/{id}': { valid: { params: { id: memory.id }, body: { pinned: true } }, bad: { params: { id: memory.id }, body: { status: 'gone' }, field: 'status' } },
    'DELETE /v1/memories/{id}': { valid: { params: { id: forgettable.id } }, bad: { params: { id: '.' }, field: 'id' } },
  };
}
