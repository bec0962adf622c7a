import { findVerifiedFix, type VerifiedFix } from './reflex-learning.js';
import { errorLineOf, failingTestsOf, normaliseErrorLine, normaliseTopic, proposeReflexByRule, topicOf } from './reflex-rule.js';
import { divideEscalation, divideEscalationRecord, FAILING_TAP, HINT_DECISION, succeededSubtask } from '../../test/reflex-records.js';

function fixOf(record = divideEscalationRecord()): VerifiedFix {
  const outcome = findVerifiedFix([succeededSubtask('s1', 2)], [record], 's1');
  if (!outcome.learn) throw new Error(outcome.reason);
  return outcome.fix;
}

describe('the rule proposal', () => {
  it('words the lesson from the failure, the hint and the passing test run; the topic is the failing tests', () => {
    expect(proposeReflexByRule(fixOf())).toEqual({
      lesson:
        'In src/divide.js, test/divide.test.js: when the tests failed ("divide refuses to divide by zero") with error: \'Missing expected exception (RangeError).\', ' +
        'what made them pass: In src/divide.js, throw a RangeError before dividing when b is 0. (verified: `node --test` passed).',
      topic: 'failing tests: divide refuses to divide by zero',
      author: 'rule',
    });
  });

  it('gives the same topic to the same failure whatever the fix, so a contradiction meets its predecessor', () => {
    const other = divideEscalationRecord({ decision: { ...HINT_DECISION, hint: 'Return null when b is 0.' } });
    expect(proposeReflexByRule(fixOf(other)).topic).toBe(proposeReflexByRule(fixOf()).topic);
    expect(proposeReflexByRule(fixOf(other)).lesson).not.toBe(proposeReflexByRule(fixOf()).lesson);
  });

  it('falls back to the normalised error line, then to the kind and files, when no test is named', () => {
    const jestless = 'Error: ENOENT: no such file, open /tmp/maestro-worktrees/executor-2/x/config/app.json\n    at Object.openSync (node:fs:573:3)';
    const byError = divideEscalationRecord({ escalation: divideEscalation('s1', 1, jestless) });
    expect(proposeReflexByRule(fixOf(byError)).topic).toBe('error: error: enoent: no such file, open app.json');
    const silent = divideEscalationRecord({ escalation: divideEscalation('s1', 1, '') });
    silent.escalation.result.tests = undefined;
    expect(proposeReflexByRule(fixOf(silent)).topic).toBe('tests_failed: src/divide.js, test/divide.test.js');
  });

  it('words take-overs and re-plans', () => {
    const takeover = divideEscalationRecord({ decision: { kind: 'takeover', reason: 'needs care', at: 'x' } });
    expect(proposeReflexByRule(fixOf(takeover)).lesson).toContain('it was fixed only when the strategic model took the subtask over (needs care)');
  });
});

describe('failure signature readers', () => {
  it('reads failing test names only when the output names them unambiguously', () => {
    expect(failingTestsOf(FAILING_TAP)).toEqual(['divide refuses to divide by zero']);
    expect(failingTestsOf('')).toEqual([]);
    expect(failingTestsOf('Segmentation fault')).toEqual([]);
  });

  it('finds the error line, skipping stack frames and runner summaries', () => {
    expect(errorLineOf('    at foo (a.js:1:1)\n# fail 1\nAssertionError [ERR_ASSERTION]: Missing expected exception.')).toBe('AssertionError [ERR_ASSERTION]: Missing expected exception.');
    expect(errorLineOf('all good')).toBeUndefined();
  });

  it('normalises what varies between runs', () => {
    expect(normaliseErrorLine('TypeError at /tmp/w/executor-1/a1b2/src/x.js:12:5 after 3.5ms')).toBe('TypeError at x.js:#:# after #ms');
    expect(normaliseTopic('  Failing   Tests: Divide ')).toBe('failing tests: divide');
    expect(topicOf({ kind: 'stuck', failingTests: ['b', 'a'], errorLine: 'x', files: [] })).toBe('failing tests: a | b');
  });
});
