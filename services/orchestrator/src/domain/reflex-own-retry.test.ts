import { divideEscalationRecord, FAILING_TAP, succeededSubtask, verifiedResult } from '../../test/reflex-records.js';
import { proposeReflexByRule } from './reflex-rule.js';
import { findVerifiedFix } from './reflex-learning.js';
import { findOwnRetry, OwnRetryDefaults, proposeOwnRetryReflex, toOwnRetryLearnRequest, type OwnRetry } from './reflex-own-retry.js';

const recoveredFrom = { failingTests: ['divide refuses to divide by zero'], outputTail: FAILING_TAP, exitCode: 1 };
const recovered = (over: Record<string, unknown> = {}) => succeededSubtask('s1', 1, { result: verifiedResult('s1', 1, { recoveredFrom, ...over }) });

function retryOf(outcome: ReturnType<typeof findOwnRetry>): OwnRetry {
  if (!outcome.learn) throw new Error(`expected an own retry, got: ${outcome.reason}`);
  return outcome.retry;
}

describe('findOwnRetry', () => {
  it('finds a verified success that recovered from failing tests, never escalated', () => {
    const retry = retryOf(findOwnRetry([recovered()], [], 's1'));
    expect(retry).toMatchObject({ subtaskId: 's1', attempt: 1, mergedSha: 'm-s1-1', tests: { passed: true }, recoveredFrom });
    expect(retry.signature).toMatchObject({ kind: 'tests_failed', failingTests: ['divide refuses to divide by zero'] });
  });

  it('learns nothing without recoveredFrom, after an escalation, for a replacement, or when nothing is named', () => {
    const reason = (outcome: ReturnType<typeof findOwnRetry>) => (outcome.learn ? 'learned' : outcome.reason);
    expect(reason(findOwnRetry([succeededSubtask('s1', 1)], [], 's1'))).toBe('subtask s1 passed its tests without failing first');
    expect(reason(findOwnRetry([succeededSubtask('s1', 2, { result: verifiedResult('s1', 2, { recoveredFrom }) })], [divideEscalationRecord()], 's1'))).toBe(
      "subtask s1 was escalated: its lesson is the escalation's",
    );
    expect(reason(findOwnRetry([{ ...recovered(), replaces: 's0' }], [], 's1'))).toBe("subtask s1 replaces s0: its lesson is the re-plan's");
    expect(reason(findOwnRetry([recovered({ recoveredFrom: { failingTests: [], outputTail: 'exit status 2', exitCode: 2 } })], [], 's1'))).toBe(
      "subtask s1's failed run names no failing test and no error: nothing to learn",
    );
    expect(reason(findOwnRetry([recovered({ merged: undefined })], [], 's1'))).toBe("subtask s1's commit was not merged into the task branch");
  });

  it("uses the agent's own names when the tail names no test, and the error line when neither does", () => {
    const named = retryOf(findOwnRetry([recovered({ recoveredFrom: { failingTests: ['a works'], outputTail: 'boom', exitCode: 1 } })], [], 's1'));
    expect(named.signature.failingTests).toEqual(['a works']);
    const byError = retryOf(findOwnRetry([recovered({ recoveredFrom: { failingTests: [], outputTail: 'TypeError: x is not a function', exitCode: 1 } })], [], 's1'));
    expect(proposeOwnRetryReflex(byError).topic).toBe('own retry, error: typeerror: x is not a function');
  });
});

describe('the own-retry lesson', () => {
  it('is the rule\'s, filed apart from the escalation lesson on the same failure, at low confidence', () => {
    const retry = retryOf(findOwnRetry([recovered()], [], 's1'));
    const proposal = proposeOwnRetryReflex(retry);
    const escalated = findVerifiedFix([succeededSubtask('s1', 2)], [divideEscalationRecord()], 's1');
    if (!escalated.learn) throw new Error(escalated.reason);
    expect(proposal.topic).toBe(`own retry, ${proposeReflexByRule(escalated.fix).topic}`);
    expect(proposal.author).toBe('rule');
    // The same failure fixed the same way words the same lesson: memory merges it.
    expect(proposeOwnRetryReflex(retryOf(findOwnRetry([recovered()], [], 's1')))).toEqual(proposal);

    const request = toOwnRetryLearnRequest('calc', 't1', retry, proposal, 'acme');
    expect(request).toMatchObject({
      project: 'calc',
      content: proposal.lesson,
      topic: proposal.topic,
      confidence: OwnRetryDefaults.confidence,
      author: 'rule',
      provenance: { taskId: 't1', subtaskId: 's1', commitSha: 'm-s1-1', failingTests: ['divide refuses to divide by zero'], fix: OwnRetryDefaults.fix },
    });
    expect(request.provenance?.testEvidence).toMatch(/^node --test: passed \(exit 0\) at m-s1-1 \(attempt 1\)\nbefore, in the same attempt: exit 1; failing output/);
  });
});
