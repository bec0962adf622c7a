import { AgentStep, Task } from '@maestro/contracts';
import { toAgentStepJson, toTaskJson } from './presenters.js';

describe('toTaskJson', () => {
  const subtask = {
    id: 's2', title: 't', instructions: 'i', files: ['src/a.js'], status: 'pending', summary: '', commitSha: '', filesChanged: [], failureReason: '',
    dependsOn: ['s1'], resources: ['port:3000'], concerns: ['file:/repo/src/a.js', 'port:3000'],
  };

  it('shows each subtask\'s dependencies, resources and concerns', () => {
    const json = toTaskJson(Task.fromPartial({ id: 't1', subtasks: [subtask] }));
    expect(json.subtasks[0]).toMatchObject({ dependsOn: ['s1'], resources: ['port:3000'], concerns: ['file:/repo/src/a.js', 'port:3000'] });
  });

  it('shows each escalation\'s failure packet, and null when none was kept', () => {
    const packet = { reason: 'tests_failed', steps: 4, lastDiff: '+x', failingTestOutput: 'AssertionError', agentAccount: 'done', filesChanged: ['a.js'] };
    const escalation = { escalationId: 'e1', subtaskId: 's1', attempt: 1, reason: 'tests_failed', decision: 'hint', decisionReason: 'r' };
    const json = toTaskJson(Task.fromPartial({ id: 't1', escalations: [{ ...escalation, packet }, escalation] }));
    expect(json.escalations.map((e) => e.packet)).toEqual([packet, null]);
  });

  it('shows the answer of a task that asked a question, and \'\' for one that did not', () => {
    expect(toTaskJson(Task.fromPartial({ id: 't1', workflow: 'coding' })).answer).toBe('');
    const answer = 'src/add.js exports add(a, b).\nNothing else uses it.';
    expect(toTaskJson(Task.fromPartial({ id: 't2', workflow: 'explain', answer }))).toMatchObject({ workflow: 'explain', answer });
  });

  it('shows the delivery once there is one, and null before', () => {
    expect(toTaskJson(Task.fromPartial({ id: 't1' })).delivery).toBeNull();
    const delivery = { mode: 'fast-forward', branch: 'maestro/t1', sha: 'abc', delivered: false, reason: 'the working tree has uncommitted changes' };
    expect(toTaskJson(Task.fromPartial({ id: 't1', delivery })).delivery).toEqual(delivery);
  });
});

describe('toAgentStepJson', () => {
  const base = {
    taskId: 't1', runId: 'r1', subtaskId: 's1', executorId: 'exec-a', step: 1, summary: 'recalled 2 memories', ok: true,
    at: new Date('2030-01-02T03:04:05.678Z'), attempt: 1,
  };

  it('shows the memories a recall step put in the prompt, with id, kind, score, why and content', () => {
    const json = toAgentStepJson(AgentStep.fromPartial({
      ...base,
      kind: 'recall',
      recalled: [
        { id: 'm1', kind: 'reflex', score: 0.0325, why: 'keyword rank 1; vector rank 2', content: 'tests need TZ=UTC' },
        { id: 'm2', kind: 'preference', score: 0.0161, why: '', content: 'use pnpm' },
      ],
    }));
    expect(json).toEqual({
      taskId: 't1', runId: 'r1', subtaskId: 's1', executorId: 'exec-a', step: 1, kind: 'recall', summary: 'recalled 2 memories', ok: true,
      at: '2030-01-02T03:04:05.678Z', attempt: 1, modelCall: null, durationMs: null, arguments: null, observation: null,
      recalled: [
        { id: 'm1', kind: 'reflex', score: 0.0325, why: 'keyword rank 1; vector rank 2', content: 'tests need TZ=UTC' },
        { id: 'm2', kind: 'preference', score: 0.0161, content: 'use pnpm' },
      ],
    });
    // A recall that found nothing says so with an empty list.
    expect(toAgentStepJson(AgentStep.fromPartial({ ...base, kind: 'recall' })).recalled).toEqual([]);
  });

  it('shows the numbers of a condensation step', () => {
    const condensation = {
      trigger: 'budget', tokensBefore: 41_000, tokensAfter: 12_500, counted: 'estimate', summarisedMessages: 14, summarisedBy: 'rule',
      dropped: ['fs.read src/a.ts (superseded by a later read)'], pinnedFacts: 6,
    };
    const json = toAgentStepJson(AgentStep.fromPartial({ ...base, kind: 'condensation', condensation: { ...condensation, rejected: '' } }));
    expect(json.condensation).toEqual(condensation);
    expect(json).not.toHaveProperty('recalled');
    const rejected = toAgentStepJson(AgentStep.fromPartial({ ...base, kind: 'condensation', condensation: { ...condensation, rejected: 'failing test "adds"' } }));
    expect(rejected.condensation?.rejected).toBe('failing test "adds"');
  });

  it('shows a model step\'s call (who answered, tokens, cost) and how long it took', () => {
    const modelCall = {
      provider: 'scripted', model: 'scripted', scripted: true, inputTokens: 950, cachedInputTokens: 0, outputTokens: 12, reasoningTokens: 0, usd: 0, priced: true,
    };
    const json = toAgentStepJson(AgentStep.fromPartial({ ...base, kind: 'model', modelCall, durationMs: 420 }));
    expect(json).toMatchObject({ modelCall, durationMs: 420, arguments: null, observation: null });
  });

  it('shows a tool step\'s arguments and observation, and null for what a step does not have', () => {
    const json = toAgentStepJson(AgentStep.fromPartial({ ...base, kind: 'tool', tool: 'exec', arguments: '{"argv":["npm","test"]}', observation: '1 passing', durationMs: 0 }));
    expect(json).toMatchObject({ modelCall: null, durationMs: null, arguments: '{"argv":["npm","test"]}', observation: '1 passing' });
  });

  it('leaves both out of the other steps', () => {
    const json = toAgentStepJson(AgentStep.fromPartial({ ...base, kind: 'tool', tool: 'fs.read' }));
    expect(json).not.toHaveProperty('recalled');
    expect(json).not.toHaveProperty('condensation');
    expect(json.tool).toBe('fs.read');
  });
});
