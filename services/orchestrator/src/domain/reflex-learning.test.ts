import { claimReflex, describeFix, findVerifiedFix, type ReflexMark, type VerifiedFix } from './reflex-learning.js';
import { divideEscalationRecord, HINT_DECISION, succeededSubtask, verifiedResult } from '../../test/reflex-records.js';
import { subtaskRecord } from '../../test/task-records.js';

function learned(outcome: ReturnType<typeof findVerifiedFix>): VerifiedFix {
  if (!outcome.learn) throw new Error(`expected a fix, got: ${outcome.reason}`);
  return outcome.fix;
}

describe('findVerifiedFix', () => {
  it('finds the hint that a later attempt verified: merged, tests passing', () => {
    const fix = learned(findVerifiedFix([succeededSubtask('s1', 2)], [divideEscalationRecord()], 's1'));
    expect(fix).toMatchObject({
      subtaskId: 's1',
      attempt: 2,
      mergedSha: 'm-s1-2',
      tests: { command: ['node', '--test'], passed: true },
      filesChanged: ['src/divide.js', 'test/divide.test.js'],
      decision: { kind: 'hint' },
    });
    expect(fix.escalation.escalationId).toBe('t1:s1:1');
  });

  it('learns from the latest escalation when a subtask escalated several times', () => {
    const second = divideEscalationRecord({ decision: { ...HINT_DECISION, hint: 'second hint' } }, 's1', 2);
    const fix = learned(findVerifiedFix([succeededSubtask('s1', 3)], [divideEscalationRecord(), second], 's1'));
    expect(fix.escalation.escalationId).toBe('t1:s1:2');
    expect(describeFix(fix)).toBe('hint: second hint');
  });

  it('learns from a take-over too', () => {
    const takeover = divideEscalationRecord({ decision: { kind: 'takeover', reason: 'the agent lacks the skill', at: 'x' } });
    expect(describeFix(learned(findVerifiedFix([succeededSubtask('s1', 2)], [takeover], 's1')))).toBe('takeover by the strategic model: the agent lacks the skill');
  });

  it('learns nothing without an escalation here: own retries are reflex-own-retry.ts\'s', () => {
    expect(findVerifiedFix([succeededSubtask('s1', 1)], [], 's1')).toEqual({
      learn: false,
      reason: 'subtask s1 was never escalated',
    });
  });

  it('learns nothing from a success that is not verified', () => {
    const result = (over: Record<string, unknown>) => [succeededSubtask('s1', 2, { result: verifiedResult('s1', 2, over) })];
    const reason = (subtasks: ReturnType<typeof result>) => {
      const outcome = findVerifiedFix(subtasks, [divideEscalationRecord()], 's1');
      return outcome.learn ? 'learned' : outcome.reason;
    };
    expect(reason(result({ tests: { command: ['npm', 'test'], exitCode: 1, passed: false, outputTail: '' } }))).toBe("subtask s1's tests did not pass");
    expect(reason(result({ tests: undefined }))).toBe("subtask s1's result has no test run");
    expect(reason(result({ merged: undefined }))).toBe("subtask s1's commit was not merged into the task branch");
    expect(reason([subtaskRecord('s1', { status: 'failed', attempt: 2 })])).toBe('subtask s1 is failed');
  });

  it('does not count escalations of later attempts, undecided or failed ones', () => {
    const outcome = (e: ReturnType<typeof divideEscalationRecord>) => findVerifiedFix([succeededSubtask('s1', 2)], [e], 's1').learn;
    expect(outcome(divideEscalationRecord({}, 's1', 2))).toBe(false);
    expect(outcome(divideEscalationRecord({ status: 'pending', decision: null }))).toBe(false);
    expect(outcome(divideEscalationRecord({ status: 'failed', decision: { kind: 'fail', reason: 'limit', at: 'x' } }))).toBe(false);
  });

  it('learns a re-plan once every replacement succeeded verified, from the one that finished last', () => {
    const replan = divideEscalationRecord({ decision: { kind: 'replan', reason: 'too big', subtasks: ['s1.1', 's1.2'], at: 'x' } });
    const replaced = subtaskRecord('s1', { status: 'replaced' });
    const first = succeededSubtask('s1.1', 1, { replaces: 's1', title: 'Write the zero test', result: verifiedResult('s1.1', 1, { filesChanged: ['test/divide.test.js'] }) });
    const waiting = subtaskRecord('s1.2', { replaces: 's1', title: 'Throw on zero' });
    expect(findVerifiedFix([replaced, first, waiting], [replan], 's1.1')).toEqual({
      learn: false,
      reason: 'not every replacement of s1 succeeded verified yet: subtask s1.2 is running',
    });
    const second = succeededSubtask('s1.2', 2, { replaces: 's1', title: 'Throw on zero', result: verifiedResult('s1.2', 2, { filesChanged: ['src/divide.js'] }) });
    const fix = learned(findVerifiedFix([replaced, first, second], [replan], 's1.1'));
    expect(fix).toMatchObject({ subtaskId: 's1.2', attempt: 2, mergedSha: 'm-s1.2-2', filesChanged: ['test/divide.test.js', 'src/divide.js'] });
    expect(describeFix(fix)).toBe('replan into s1.1, s1.2 (Write the zero test; Throw on zero): too big');
  });

  it('does not learn again from an escalation already learned from or given up on', () => {
    const mark = (state: ReflexMark['state']): ReflexMark => ({ state, subtaskId: 's1', attempt: 2, claimedUntil: null, tries: 1, at: 'x', memoryId: 'r1' });
    const withMark = (state: ReflexMark['state']) => divideEscalationRecord({ decision: { ...HINT_DECISION, reflex: mark(state) } });
    expect(findVerifiedFix([succeededSubtask('s1', 2)], [withMark('learned')], 's1')).toEqual({ learn: false, reason: 'already learned from escalation t1:s1:1 (memory r1)' });
    expect(findVerifiedFix([succeededSubtask('s1', 2)], [withMark('dropped')], 's1').learn).toBe(false);
    expect(findVerifiedFix([succeededSubtask('s1', 2)], [withMark('learning')], 's1').learn).toBe(true);
  });
});

describe('claimReflex', () => {
  const now = new Date('2024-01-01T00:00:10.000Z');
  const fixWith = (reflex?: ReflexMark): VerifiedFix =>
    learned(findVerifiedFix([succeededSubtask('s1', 2)], [divideEscalationRecord({ decision: { ...HINT_DECISION, ...(reflex ? { reflex } : {}) } })], 's1'));

  it('claims a fresh fix until now + claimMs', () => {
    expect(claimReflex(fixWith(), now, 60_000)).toEqual({
      action: 'claim',
      mark: { state: 'learning', subtaskId: 's1', attempt: 2, claimedUntil: '2024-01-01T00:01:10.000Z', tries: 1, at: now.toISOString() },
    });
  });

  it('waits for a running claim and takes over one that ran out, keeping the stored proposal', () => {
    const proposal = { lesson: 'l', topic: 't', author: 'rule' };
    const held: ReflexMark = { state: 'learning', subtaskId: 's1', attempt: 2, claimedUntil: '2024-01-01T00:00:20.000Z', tries: 1, at: 'x', proposal };
    expect(claimReflex(fixWith(held), now, 60_000)).toEqual({ action: 'skip', reason: 'another learner holds the claim until 2024-01-01T00:00:20.000Z' });
    const claim = claimReflex(fixWith({ ...held, claimedUntil: '2024-01-01T00:00:05.000Z' }), now, 60_000);
    expect(claim).toMatchObject({ action: 'claim', mark: { tries: 2, proposal, claimedUntil: '2024-01-01T00:01:10.000Z' } });
    expect(claimReflex(fixWith({ ...held, claimedUntil: null }), now, 60_000).action).toBe('claim');
  });
});
