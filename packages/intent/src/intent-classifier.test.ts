import { UserError } from '@maestro/runtime';
import { classifyIntent, createIntentClassifier, defaultModel, toIntentModel } from './intent-classifier.js';
import { trainIntentModel } from './intent-model.js';
import { intentList, Intents, isIntent, type Intent } from './intents.js';

// Goals a developer would word plainly; none is taken from the corpus the model learned from.
const plainGoals: Record<Intent, string[]> = {
  plan: ['propose a plan to migrate the job queue to NATS', 'design an architecture for multi-tenant billing', 'This proposal adds a quota system for task runs.'],
  code: ['add a --dry-run option to the deploy command', 'implement pagination for the tasks endpoint', 'create a new endpoint that returns run statistics'],
  fix: ['fix the crash when the config file is missing', 'TypeError: cannot read properties of undefined (reading "id")', 'the login button does not work on Safari', "the export button doesn't do anything"],
  refactor: ['refactor the retry loop into a helper function', 'rename getUser to fetchUser', 'extract the validation logic into its own module'],
  test: ['add unit tests for the lease renewal', 'write a test that covers the timeout path', 'add integration tests for the executor'],
  docs: ['update the README with the new environment variables', 'fix typo in the contributing guide', 'add jsdoc comments to the public functions', 'the docs site has broken links in the getting started section'],
  explain: ['what does the orchestrator do?', 'how does the lock manager pick a lease TTL?', 'explain how the workflow engine stores its state'],
  review: ['review this PR', 'please review my changes to the router', 'will this fix work on windows?', 'any feedback on the new retry logic?'],
  ops: ['bump node to 22 in the CI workflow', 'deploy the router to the staging cluster', 'upgrade the pnpm lockfile dependencies', 'publish wheels to PyPI from the release job'],
};

describe('classifyIntent', () => {
  for (const intent of intentList) {
    it(`reads plainly worded ${intent} goals as ${intent}`, () => {
      for (const goal of plainGoals[intent]) {
        expect({ goal, intent: classifyIntent(goal).intent }).toEqual({ goal, intent });
      }
    });
  }

  it('gives a confidence in [0, 1] and a reason naming the evidence', () => {
    const result = classifyIntent('fix the crash when the config file is missing');
    expect(result.confidence).toBeGreaterThan(0.5);
    expect(result.confidence).toBeLessThanOrEqual(1);
    expect(result.reason).toContain('fix');
  });

  it('sees through politeness and a leading location', () => {
    expect(classifyIntent('ok, can you please refactor the token cache into a class').intent).toBe(Intents.Refactor);
    expect(classifyIntent('in `parseArgs`, rename opts to options').intent).toBe(Intents.Refactor);
  });

  it('is deterministic: the same text always gives the same answer', () => {
    const text = 'why does the router pick the cheap tier for reviews?';
    const first = classifyIntent(text);
    for (let i = 0; i < 5; i += 1) expect(classifyIntent(text)).toEqual(first);
    expect(createIntentClassifier().classify(text)).toEqual(first);
  });

  it('rejects empty and blank text with a UserError on the text field', () => {
    for (const text of ['', '   ', '\n\t']) {
      let caught: unknown;
      try {
        classifyIntent(text);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(UserError);
      expect(caught).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'text' });
    }
  });

  it('answers very long text too, from its beginning', () => {
    const trace = `TypeError: x is undefined\n${'    at step (worker.js:1:2)\n'.repeat(10_000)}`;
    expect(classifyIntent(trace).intent).toBe(Intents.Fix);
  });
});

describe('the shipped model', () => {
  it('is valid for every intent', () => {
    const model = defaultModel();
    expect(model.intents).toEqual(intentList);
    expect(Object.keys(model.weights).length).toBeGreaterThan(100);
  });

  it('is refused when it does not fit this code', () => {
    expect(() => toIntentModel({ version: 99, intents: intentList, bias: [], weights: {} })).toThrow(/retrain/);
    expect(() => toIntentModel(null)).toThrow(/retrain/);
  });
});

describe('isIntent', () => {
  it('accepts the nine intents and nothing else', () => {
    for (const intent of intentList) expect(isIntent(intent)).toBe(true);
    expect(isIntent('deploy')).toBe(false);
    expect(isIntent(undefined)).toBe(false);
    expect(intentList).toHaveLength(9);
  });
});

describe('createIntentClassifier', () => {
  it('uses the model it is given', () => {
    const model = trainIntentModel(
      [
        { text: 'zorp the widget', label: 'ops' },
        { text: 'zorp the gadget', label: 'ops' },
        { text: 'blick the widget', label: 'docs' },
        { text: 'blick the gadget', label: 'docs' },
      ],
      { cuePrior: false },
    );
    const classifier = createIntentClassifier(model);
    expect(classifier.classify('zorp it').intent).toBe('ops');
    expect(classifier.classify('blick it').intent).toBe('docs');
  });
});
