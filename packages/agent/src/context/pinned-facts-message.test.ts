import { PINNED_FACTS_HEADER, renderPinnedFacts } from './pinned-facts-message.js';

describe('renderPinnedFacts', () => {
  it('lists every fact word for word under its kind, each text once, in a fixed order of kinds', () => {
    const text = renderPinnedFacts([
      { kind: 'error', text: "KeyError: 'model'", seenAt: 9 },
      { kind: 'task', text: 'Fix the parser', seenAt: 1 },
      { kind: 'user_feedback', text: 'line one\nline two', seenAt: 5 },
      { kind: 'error', text: "KeyError: 'model'", seenAt: 12 },
      { kind: 'file', text: 'src/parser.py', seenAt: 3 },
    ]);
    expect(text).toBe(
      [PINNED_FACTS_HEADER, 'Task:\n- Fix the parser', 'What the user said:\n- line one\nline two', 'Files edited or in scope:\n- src/parser.py', "Errors seen:\n- KeyError: 'model'"].join('\n'),
    );
  });
});
