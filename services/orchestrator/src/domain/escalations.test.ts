import type { Escalation } from '@maestro/contracts';
import {
  admitEscalation,
  decisionStep,
  DefaultEscalationLimits,
  escalationLimitReason,
  escalationStep,
  replanSubtaskIds,
  type EscalationRecord,
} from './escalations.js';
import { codeRef as code, subtaskRecord as subtask, taskRecord as task } from '../../test/task-records.js';
import type { SubtaskRecord, TaskRecord } from './task.js';


function escalation(subtaskId = 's1', attempt = 1): Escalation {
  const workId = `t1:${subtaskId}:${attempt}`;
  return {
    escalationId: workId, taskId: 't1', runId: 'run-1', subtaskId, attempt, executorId: 'exec-1', raisedAt: '2024-01-01T00:00:00.000Z',
    packet: {
      reason: 'stuck', subtask: { title: 't', instructions: 'i', files: [] }, attempts: [], steps: 3, lastDiff: '', failingTestOutput: '',
      agentAccount: 'I kept reading the same file', filesChanged: [], tokensSpent: { input: 1, output: 1 },
    },
    result: { workId, taskId: 't1', runId: 'run-1', subtaskId, attempt, ok: false, summary: 's', filesChanged: [], failureReason: 'stuck: loop', executorId: 'exec-1', steps: 3, finishedAt: '2024-01-01T00:00:00.000Z' },
  };
}

function record(subtaskId: string, attempt: number, overrides: Partial<EscalationRecord> = {}): EscalationRecord {
  const e = escalation(subtaskId, attempt);
  return {
    escalationId: e.escalationId, taskId: 't1', runId: 'run-1', subtaskId, attempt, reason: 'stuck', escalation: e, status: 'decided',
    decision: { kind: 'hint', reason: 'r', hint: 'h', at: '2024-01-01T00:00:01.000Z' }, claimedUntil: null, createdAt: new Date(0), decidedAt: new Date(1000),
    ...overrides,
  };
}

const now = new Date(10_000);

describe('admitEscalation', () => {
  it('asks the model for a fresh escalation of the attempt the subtask is on', () => {
    expect(admitEscalation(task(), [subtask('s1')], escalation(), undefined, [], DefaultEscalationLimits, now)).toEqual({ action: 'ask' });
  });

  it('never asks again for a decided escalation, whatever the task has done since', () => {
    const stored = record('s1', 1);
    expect(admitEscalation(task({ status: 'failed' }), [subtask('s1', { attempt: 2 })], escalation(), stored, [], DefaultEscalationLimits, now)).toEqual({
      action: 'decided',
      record: stored,
    });
  });

  it('ignores stale attempts, other runs, final subtasks and ended tasks', () => {
    const admit = (t: TaskRecord, s: SubtaskRecord[], e = escalation()) => admitEscalation(t, s, e, undefined, [], DefaultEscalationLimits, now).action;
    expect(admit(task(), [subtask('s1', { attempt: 2 })])).toBe('ignore');
    expect(admit(task({ code: { ...code, runId: 'run-0' } }), [subtask('s1')])).toBe('ignore');
    expect(admit(task(), [subtask('s1', { status: 'succeeded' })])).toBe('ignore');
    expect(admit(task({ status: 'cancelled' }), [subtask('s1')])).toBe('ignore');
    expect(admit(task(), [subtask('s2')])).toBe('ignore');
  });

  it('waits while another handler holds the claim, and takes over a claim that ran out', () => {
    const pending = record('s1', 1, { status: 'pending', decision: null, claimedUntil: new Date(20_000) });
    expect(admitEscalation(task(), [subtask('s1')], escalation(), pending, [], DefaultEscalationLimits, now)).toEqual({ action: 'wait', until: new Date(20_000) });
    expect(admitEscalation(task(), [subtask('s1')], escalation(), { ...pending, claimedUntil: new Date(5_000) }, [], DefaultEscalationLimits, now)).toEqual({ action: 'ask' });
  });

  it('fails the subtask without asking once a limit is reached', () => {
    const earlier = [record('s1', 1), record('s1', 2)];
    expect(admitEscalation(task(), [subtask('s1', { attempt: 3 })], escalation('s1', 3), undefined, earlier, DefaultEscalationLimits, now)).toEqual({
      action: 'limit',
      reason: 'escalation limit reached: subtask s1 was escalated 2 times already (at most 2 per subtask)',
    });
  });
});

describe('escalationLimitReason', () => {
  it('counts decided and pending escalations, per subtask and per task, not those failed or ignored', () => {
    const limits = { perSubtask: 2, perTask: 3 };
    expect(escalationLimitReason('s1', [record('s1', 1), record('s1', 2, { status: 'failed' }), record('s1', 3, { status: 'ignored' })], limits)).toBeUndefined();
    expect(escalationLimitReason('s3', [record('s1', 1), record('s2', 1), record('s2', 2, { status: 'pending' })], limits)).toBe(
      "escalation limit reached: the task's subtasks were escalated 3 times already (at most 3 per task)",
    );
    expect(escalationLimitReason('s1', [], { perSubtask: 0, perTask: 6 })).toContain('at most 0 per subtask');
  });
});

describe('replanSubtaskIds', () => {
  it('numbers after the old id, moving past ids the task has', () => {
    expect(replanSubtaskIds('s2', 2, new Set(['s1', 's2']))).toEqual(['s2.1', 's2.2']);
    expect(replanSubtaskIds('s2', 2, new Set(['s2', 's2.2']))).toEqual(['s2.3', 's2.4']);
  });
});

describe('escalation and decision steps', () => {
  it('have fixed identities (executor orion, steps 0 and 1) and read as what happened', () => {
    const r = record('s1', 1);
    expect(escalationStep(r)).toMatchObject({ executorId: 'orion', step: 0, kind: 'escalation', ok: false, attempt: 1, at: new Date('2024-01-01T00:00:00.000Z') });
    expect(escalationStep(r).summary).toBe('stuck after attempt 1 on exec-1: I kept reading the same file');
    expect(decisionStep(r, r.decision!)).toMatchObject({ executorId: 'orion', step: 1, kind: 'decision', ok: true, summary: 'hint: r — hint: h' });
    expect(decisionStep(r, { kind: 'abandon', reason: 'no way', at: '2024-01-01T00:00:02.000Z' })).toMatchObject({ ok: false, summary: 'abandon the task: no way' });
  });
});
