import { UserError } from '@maestro/runtime';
import { REFLEX_POLICY_DEFAULTS } from './confidence.js';
import { lessonSimilarity, outcomeOf, planLesson, sameTopic, validateLearn } from './lesson.js';
import type { LearnSpec } from './lesson.js';
import { testMemory } from '../../test/support/test-memory.js';

const now = new Date('2030-03-01T00:00:00.000Z');
const policy = REFLEX_POLICY_DEFAULTS;
const provenance = { taskId: 'task-9', subtaskId: 's', commitSha: 'c0ffee', testEvidence: 'pnpm test: passed', failingTests: ['a.test.ts'], failureKind: 'tests_failed', fix: 'hint', files: ['a.ts'], confirmedBy: ['ignored'] };
const learnInput = { project: 'acme/web', content: 'The tests need TZ=UTC.', topic: ' a.test.ts   fails ', provenance, confidence: 0, author: 'rule', tags: [] };
const spec: LearnSpec = validateLearn(learnInput);
const reflex = (id: string, content: string, patch = {}) =>
  testMemory(id, {
    kind: 'reflex',
    content,
    topic: 'a.test.ts fails',
    confidence: 0.6,
    confirmations: 1,
    author: 'rule',
    confirmedAt: new Date('2030-01-01T00:00:00.000Z'),
    provenance: { ...provenance, taskId: 'task-1', confirmedBy: [] },
    ...patch,
  });

describe('validateLearn', () => {
  it('normalises the topic, defaults the confidence and ignores the caller\'s confirmed_by', () => {
    expect(spec).toMatchObject({ topic: 'a.test.ts fails', confidence: undefined, author: 'rule', provenance: { taskId: 'task-9', confirmedBy: [] } });
    expect(validateLearn({ ...learnInput, confidence: 0.9, author: 'model:gemini/gemini-2.5-pro' })).toMatchObject({ confidence: 0.9 });
    expect(validateLearn({ ...learnInput, author: 'scripted:reflect' }).author).toBe('scripted:reflect');
  });

  it.each([
    [{ author: 'model:gemini' }, 'author'],
    [{ author: 'person' }, 'author'],
    [{ confidence: -0.1 }, 'confidence'],
    [{ confidence: Number.NaN }, 'confidence'],
    [{ topic: '' }, 'topic'],
    [{ topic: 't'.repeat(501) }, 'topic'],
    [{ provenance: undefined }, 'provenance'],
    [{ provenance: { ...provenance, taskId: ' ' } }, 'provenance.task_id'],
    [{ provenance: { ...provenance, commitSha: 'c'.repeat(201) } }, 'provenance.commit_sha'],
    [{ provenance: { ...provenance, testEvidence: 'e'.repeat(4_001) } }, 'provenance.test_evidence'],
    [{ provenance: { ...provenance, files: Array.from({ length: 101 }, (_, i) => `f${i}`) } }, 'provenance.files'],
    [{ provenance: { ...provenance, failingTests: ['ok', 'x'.repeat(501)] } }, 'provenance.failing_tests[1]'],
  ])('rejects %j naming %s', (patch, field) => {
    try {
      validateLearn({ ...learnInput, ...patch });
      throw new Error('expected a UserError');
    } catch (err) {
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).field).toBe(field);
    }
  });
});

describe('planLesson', () => {
  it('creates a reflex at 0.6 with one confirmation and an expiry when nothing is on the topic', () => {
    const plan = planLesson([], spec, now, policy);
    expect(plan.action).toBe('create');
    if (plan.action !== 'create') return;
    expect(plan.memory).toMatchObject({ kind: 'reflex', confidence: 0.6, confirmations: 1, confirmedAt: now, topic: 'a.test.ts fails', author: 'rule' });
    expect(plan.memory.expiresAt).toEqual(new Date('2030-08-28T00:00:00.000Z'));
    expect(outcomeOf(plan)).toBe('created');
  });

  it('merges a near-identical lesson: one more confirmation, confidence up, expiry renewed, task recorded', () => {
    const existing = reflex('r1', 'In this repository the tests need TZ=UTC');
    const plan = planLesson([existing], spec, now, policy);
    expect(plan).toMatchObject({ action: 'merge', into: { id: 'r1' }, supersede: [] });
    if (plan.action !== 'merge') return;
    expect(plan.changes).toMatchObject({ confidence: 0.7, confirmations: 2, confirmedAt: now, provenance: { taskId: 'task-1', confirmedBy: ['task-9'] } });
    expect(outcomeOf(plan)).toBe('merged');
  });

  it('does not count the same task twice', () => {
    const existing = reflex('r1', 'The tests need TZ=UTC.', { provenance: { ...provenance, taskId: 'task-1', confirmedBy: ['task-9'] }, confirmations: 2, confidence: 0.7 });
    const plan = planLesson([existing], spec, now, policy);
    expect(plan).toMatchObject({ action: 'merge', changes: { confirmations: 2, confidence: 0.7 } });
  });

  it('supersedes a different lesson on the same topic, and leaves other topics alone', () => {
    const contradicted = reflex('r1', 'The tests need TZ=Europe/Berlin.');
    const elsewhere = reflex('r2', 'Something else entirely.', { topic: 'lint fails' });
    const plan = planLesson([contradicted, elsewhere], spec, now, policy);
    expect(plan).toMatchObject({ action: 'create', supersede: ['r1'] });
    expect(outcomeOf(plan)).toBe('superseded');
  });

  it('on a merge, supersedes the other lessons the topic still holds', () => {
    const same = reflex('r1', 'The tests need TZ=UTC!');
    const other = reflex('r2', 'Run the tests with the fake clock.');
    expect(planLesson([same, other], spec, now, policy)).toMatchObject({ action: 'merge', into: { id: 'r1' }, supersede: ['r2'] });
  });
});

describe('lesson wording', () => {
  it('treats wordings that share their distinctive words as one lesson', () => {
    expect(lessonSimilarity('In this repository the tests need TZ=UTC.', 'The tests need TZ=UTC in this repository')).toBe(1);
    expect(lessonSimilarity('the tests need TZ=UTC', 'tests need TZ=UTC set')).toBe(1);
    expect(lessonSimilarity('tests need TZ=UTC', 'tests need TZ=Europe/Berlin')).toBeLessThan(0.7);
  });

  it('compares topics without case or spacing', () => {
    expect(sameTopic('A.test.ts  FAILS', 'a.test.ts fails')).toBe(true);
    expect(sameTopic('a.test.ts fails', 'b.test.ts fails')).toBe(false);
  });
});
