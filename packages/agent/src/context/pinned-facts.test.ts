import type { ChatMessage } from '@maestro/llm';
import { PinnedFacts, taskTitle } from './pinned-facts.js';

const TASK = [
  '<pr_description>',
  'Consider the following PR description:',
  "Modeling's `separability_matrix` does not compute separability correctly",
  'Suddenly the inputs and outputs are no longer separable?',
  '</pr_description>',
  '## Important Boundaries',
  '- DO NOT MODIFY: Tests, configuration files (pyproject.toml, setup.cfg, etc.)',
  '```python',
  '# you should never see this',
  '```',
].join('\n');

const bash = (id: string, command: string): ChatMessage => ({ role: 'assistant', content: `Let me run:\n${command}`, toolCalls: [{ id, name: 'bash', argumentsJson: JSON.stringify({ command }) }] });
const result = (id: string, content: string): ChatMessage => ({ role: 'tool', toolCallId: id, content });

const HISTORY: ChatMessage[] = [
  { role: 'system', content: 'You are helpful. You must be careful.' },
  { role: 'user', content: TASK },
  bash('c1', 'python -c "import astropy"'),
  result('c1', '<returncode>1</returncode>\n<output>\nTraceback (most recent call last):\nModuleNotFoundError: No module named \'erfa\'\n</output>'),
  bash('c2', "sed -i 's/a/b/' ./astropy/modeling/separable.py && cat astropy/modeling/core.py"),
  result('c2', ''),
  bash('c3', 'python -m pytest tests/test_sep.py'),
  result('c3', "E       assert 1 == 2\n=========================== short test summary info ============================\nFAILED tests/test_sep.py::test_nested - assert 1 == 2\n========================= 1 failed, 4 passed in 0.2s ========================="),
  { role: 'user', content: '/clear\n\nall the tooltips show 0 lines\n/run make\nstill 0!' },
  { role: 'user', content: '/undo' },
  { role: 'user', content: `${'Background. '.repeat(40)}You must not touch the generated code.` },
];

const kinds = (facts: PinnedFacts): string[] => facts.list().map((fact) => `${fact.kind}: ${fact.text}`);

describe('taskTitle', () => {
  it('is the first line of prose, past markup and introductions', () => {
    expect(taskTitle(TASK)).toBe("Modeling's `separability_matrix` does not compute separability correctly");
    expect(taskTitle('# Add a sum function\nDetails')).toBe('Add a sum function');
  });
});

describe('PinnedFacts', () => {
  it('finds the task, its constraints, errors, failing tests, edited files and what the user said, on its own', () => {
    const facts = new PinnedFacts();
    facts.update(HISTORY);
    expect(kinds(facts)).toEqual([
      "task: Modeling's `separability_matrix` does not compute separability correctly",
      'constraint: DO NOT MODIFY: Tests, configuration files (pyproject.toml, setup.cfg, etc.)',
      'constraint: You must not touch the generated code.',
      'user_feedback: all the tooltips show 0 lines',
      'user_feedback: still 0!',
      'file: astropy/modeling/separable.py',
      'failing_test: tests/test_sep.py::test_nested',
      "error: ModuleNotFoundError: No module named 'erfa'",
      'error: E       assert 1 == 2',
      'error: FAILED tests/test_sep.py::test_nested - assert 1 == 2',
    ]);
    // Every fact is word for word in the message it was seen in.
    for (const fact of facts.list()) expect(JSON.stringify(HISTORY[fact.seenAt])).toContain(JSON.stringify(fact.text).slice(1, -1));
  });

  it('reads new messages only, and gives the same facts as reading the whole history at once', () => {
    const stepwise = new PinnedFacts();
    for (let n = 1; n <= HISTORY.length; n++) stepwise.update(HISTORY.slice(0, n));
    const whole = new PinnedFacts();
    whole.update(HISTORY);
    expect(stepwise.list()).toEqual(whole.list());
  });

  it('reads a different history again from the start, keeping what was pinned from outside', () => {
    const facts = new PinnedFacts();
    facts.pin('preference', 'use pnpm, never npm');
    facts.pin('file', 'src/in-scope.ts');
    facts.update(HISTORY);
    facts.update([{ role: 'user', content: 'Add sum(a, b) to sum.js' }]);
    expect(kinds(facts)).toEqual(['task: Add sum(a, b) to sum.js', 'preference: use pnpm, never npm', 'file: src/in-scope.ts']);
    expect(facts.list().find((fact) => fact.kind === 'preference')?.seenAt).toBe(-1);
  });

  it('is bounded: facts are cut to maxChars, and each kind keeps its first and its latest', () => {
    const facts = new PinnedFacts({ maxChars: 40, limits: { agent: { first: 1, last: 2 } } });
    for (let i = 0; i < 6; i++) facts.pin('agent', `note ${i} ${'x'.repeat(100)}`, i);
    const agent = facts.list().filter((fact) => fact.kind === 'agent');
    expect(agent.map((fact) => fact.seenAt)).toEqual([0, 4, 5]);
    expect(agent.every((fact) => fact.text.length === 40)).toBe(true);
  });

  it('drops, among errors, the oldest of the most repeated type, so one noisy kind cannot push out the rest', () => {
    const facts = new PinnedFacts({ limits: { error: { first: 0, last: 3 } } });
    const history: ChatMessage[] = [{ role: 'user', content: 'task' }];
    const errors = ["AttributeError: 'Inner' object has no attribute '__name__'", "ModuleNotFoundError: No module named 'a'", "ModuleNotFoundError: No module named 'b'", "ModuleNotFoundError: No module named 'c'"];
    errors.forEach((line, i) => history.push(bash(`c${i}`, 'python x.py'), result(`c${i}`, line)));
    facts.update(history);
    expect(facts.list().filter((fact) => fact.kind === 'error').map((fact) => fact.text)).toEqual([errors[0], errors[2], errors[3]]);
  });

  it('counts a fact seen again as recent, where it was last seen', () => {
    const facts = new PinnedFacts({ limits: { error: { first: 0, last: 2 } } });
    const history: ChatMessage[] = [{ role: 'user', content: 'task' }];
    for (const [i, line] of ['TypeError: a', 'ValueError: b', 'TypeError: a', 'KeyError: c'].entries()) history.push(bash(`c${i}`, 'run'), result(`c${i}`, line));
    facts.update(history);
    expect(facts.list().filter((fact) => fact.kind === 'error').map((fact) => `${fact.text} @${fact.seenAt}`)).toEqual(['TypeError: a @6', 'KeyError: c @8']);
  });
});
