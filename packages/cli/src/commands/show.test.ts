import { describeTask } from './show.js';

describe('maestro show: describeTask', () => {
  const base = { id: 't1', goal: 'What does src/add.js export?', status: 'succeeded', runId: 'r1', repoPath: '/repo', workflow: 'explain', usage: null, usageError: 'router down' };

  it('shows the answer of a question whole, lines kept, and says the finished task has no subtasks', () => {
    const answer = 'src/add.js exports one function, add(a, b).\nIt returns a + b; test/add.test.js checks it, and this sentence goes well past the width a one-line summary would keep.';
    const lines = describeTask({ ...base, answer });
    expect(lines).toContain('run      r1 (workflow explain)');
    const at = lines.indexOf('answer   src/add.js exports one function, add(a, b).');
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toBe('         It returns a + b; test/add.test.js checks it, and this sentence goes well past the width a one-line summary would keep.');
    expect(lines).toContain('subtasks (none)');
  });

  it('shows no answer line for a task without one', () => {
    const lines = describeTask({ ...base, status: 'running', workflow: 'coding', answer: '' });
    expect(lines.some((l) => l.startsWith('answer'))).toBe(false);
    expect(lines).toContain('subtasks (none yet)');
    // An older gateway sends no `answer` at all.
    expect(describeTask({ ...base }).some((l) => l.startsWith('answer'))).toBe(false);
  });
});
