import { findVerifiedFix } from './reflex-learning.js';
import { toLearnRequest } from './reflex-request.js';
import { divideEscalationRecord, succeededSubtask } from '../../test/reflex-records.js';

describe('toLearnRequest', () => {
  it('carries the lesson under the failure\'s topic, with the provenance of the verified outcome', () => {
    const outcome = findVerifiedFix([succeededSubtask('s1', 2)], [divideEscalationRecord()], 's1');
    if (!outcome.learn) throw new Error(outcome.reason);
    // A proposal stored with another topic (an older model-worded one) is filed under the failure's.
    const request = toLearnRequest('calc', outcome.fix, { lesson: 'throw on zero', topic: 'division stuff', author: 'rule' }, 'acme');
    expect(request).toMatchObject({
      project: 'calc',
      content: 'throw on zero',
      topic: 'failing tests: divide refuses to divide by zero',
      author: 'rule',
      confidence: 0,
      tags: ['reflex', 'tests_failed'],
      provenance: {
        taskId: 't1',
        subtaskId: 's1',
        commitSha: 'm-s1-2',
        failingTests: ['divide refuses to divide by zero'],
        failureKind: 'tests_failed',
        fix: 'hint: In src/divide.js, throw a RangeError before dividing when b is 0.',
        files: ['src/divide.js', 'test/divide.test.js'],
        confirmedBy: [],
      },
    });
    const evidence = request.provenance?.testEvidence ?? '';
    expect(evidence).toMatch(/^node --test: passed \(exit 0\) at m-s1-2 \(attempt 2\)\nbefore: tests_failed on attempt 1; failing output \(end\):\n/);
    expect(evidence).toContain('not ok 2 - divide refuses to divide by zero');
  });
});
