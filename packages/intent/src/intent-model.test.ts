import { trainIntentModel, type LabelledText } from './intent-model.js';
import { assignFolds, fnv1a, scoreIntents } from './cross-validation.js';
import { intentList } from './intents.js';

const sample: LabelledText[] = [
  { text: 'fix the crash on start', label: 'fix' },
  { text: 'fix the wrong total', label: 'fix' },
  { text: 'add a retry option', label: 'code' },
  { text: 'add a json flag', label: 'code' },
  { text: 'bump the node version', label: 'ops' },
  { text: 'pin the docker image', label: 'ops' },
];

describe('trainIntentModel', () => {
  it('is deterministic: the same cases give the same model', () => {
    expect(JSON.stringify(trainIntentModel(sample))).toBe(JSON.stringify(trainIntentModel([...sample])));
  });

  it('keeps the cue priors when asked not to learn (the rules-only baseline)', () => {
    const model = trainIntentModel(sample, { learn: false });
    expect(model.bias.every((b) => b === 0)).toBe(true);
    const fixVerb = model.weights['cue:fix-verb'];
    expect(fixVerb?.[intentList.indexOf('fix')]).toBe(1.5);
  });

  it('records what it was trained on', () => {
    expect(trainIntentModel(sample).trainedOn).toMatchObject({ cases: 6, perIntent: { fix: 2, code: 2, ops: 2, docs: 0 } });
  });
});

describe('assignFolds', () => {
  it('deals each label evenly over the folds, the same way every time', () => {
    const cases: LabelledText[] = [];
    for (let i = 0; i < 10; i += 1) cases.push({ text: `fix bug ${i}`, label: 'fix' }, { text: `add feature ${i}`, label: 'code' });
    const folds = assignFolds(cases, 5);
    expect(assignFolds([...cases].reverse(), 5)).toEqual([...folds].reverse());
    for (const label of ['fix', 'code'] as const) {
      const counts = [0, 0, 0, 0, 0];
      cases.forEach((c, i) => {
        if (c.label === label) counts[folds[i]!]! += 1;
      });
      expect(counts).toEqual([2, 2, 2, 2, 2]);
    }
  });

  it('hashes text stably', () => {
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('abc')).toBe(fnv1a('abc'));
    expect(fnv1a('abc')).not.toBe(fnv1a('abd'));
  });
});

describe('scoreIntents', () => {
  it('counts accuracy overall and per label', () => {
    const score = scoreIntents(sample, ['fix', 'code', 'code', 'code', 'ops', 'ops']);
    expect(score.accuracy).toBeCloseTo(5 / 6);
    expect(score.perIntent.fix).toEqual({ total: 2, correct: 1, accuracy: 0.5 });
    expect(score.confusion.fix.code).toBe(1);
    expect(score.errors).toEqual([{ text: 'fix the wrong total', label: 'fix', predicted: 'code' }]);
  });
});
