import { describeAnswer, describeOutcome, describeRunEvent, describeSubtaskChanges, splitModelSummary, stateOfEvent, type TaskView } from './run-view.js';

const event = (name: string, data: Record<string, unknown>) => ({ event: name, data: JSON.stringify(data) });

describe('splitModelSummary', () => {
  it('names the scripted provider "scripted"', () => {
    expect(splitModelSummary("[scripted] scripted/demo: I'll add it. → fs.write")).toEqual({ model: 'scripted', text: "I'll add it. → fs.write" });
  });

  it('names a real model, colons in its name included', () => {
    expect(splitModelSummary('deepseek/deepseek-chat: done')).toEqual({ model: 'deepseek/deepseek-chat', text: 'done' });
    expect(splitModelSummary('openai/qwen2.5-coder:32b: fixing')).toEqual({ model: 'openai/qwen2.5-coder:32b', text: 'fixing' });
  });
});

describe('describeRunEvent', () => {
  it('shows state changes and the current state', () => {
    const transition = event('run.transitioned', { fromState: 'plan', state: 'code', eventType: 'activity.done', seq: 3 });
    expect(describeRunEvent(transition)).toBe('state    plan → code  (on activity.done)');
    expect(stateOfEvent(transition)).toBe('code');
    expect(stateOfEvent(event('work.step', { state: 'x' }))).toBeUndefined();
  });

  it('shows model steps with their model and tool steps with their tool, failures marked', () => {
    expect(describeRunEvent(event('work.step', { subtaskId: 's1', step: 2, kind: 'model', summary: '[scripted] scripted/demo: Writing it.', ok: true }))).toBe(
      'step     s1 #2 model scripted: Writing it.',
    );
    expect(describeRunEvent(event('work.step', { subtaskId: 's1', step: 3, kind: 'tool', tool: 'exec', summary: 'exit code 1', ok: false }))).toBe(
      'step     s1 #3 tool exec ✗: exit code 1',
    );
  });

  it('shows finished subtasks and runs, and skips what it does not know', () => {
    expect(describeRunEvent(event('work.finished', { subtaskId: 's2', ok: true, executorId: 'executor-1', commitSha: 'abcdef0123456' }))).toBe(
      'subtask  s2 succeeded on executor-1 — commit abcdef0123',
    );
    expect(describeRunEvent(event('run.finished', { status: 'failed', state: 'failed', error: { code: 'X', message: 'y' } }))).toBe(
      'run      finished: failed in state failed — {"code":"X","message":"y"}',
    );
    expect(describeRunEvent(event('lock.acquired', {}))).toBeUndefined();
    expect(describeRunEvent({ event: 'run.transitioned', data: 'not json' })).toBeUndefined();
  });
});

describe('describeSubtaskChanges', () => {
  const task = (subtasks: TaskView['subtasks']): TaskView => ({ id: 't', goal: 'g', status: 'running', runId: 'r', repoPath: '/r', subtasks });

  it('reports new subtasks and status changes once', () => {
    const first = describeSubtaskChanges(new Map(), task([{ id: 's1', title: 'Create a', status: 'pending' }]));
    expect(first.lines).toEqual(['subtask  s1 planned: Create a (pending)']);
    const same = describeSubtaskChanges(first.statuses, task([{ id: 's1', title: 'Create a', status: 'pending' }]));
    expect(same.lines).toEqual([]);
    const moved = describeSubtaskChanges(same.statuses, task([{ id: 's1', title: 'Create a', status: 'running', executorId: 'executor-2' }]));
    expect(moved.lines).toEqual(['subtask  s1 pending → running on executor-2']);
  });
});

describe('describeOutcome', () => {
  it('gives the status with the reason, and the branch', () => {
    const lines = describeOutcome({
      id: 't1',
      goal: 'g',
      status: 'failed',
      runId: 'r',
      repoPath: '/r',
      failureReason: 'budget exhausted',
      delivery: { mode: 'branch', branch: 'maestro/t1', sha: '0123456789abcdef', delivered: false, reason: '' },
    });
    expect(lines).toEqual(['task     t1 failed — budget exhausted', 'branch   maestro/t1 at 0123456789ab']);
  });
});

describe('describeAnswer', () => {
  it('shows the whole answer, line breaks and paragraphs kept, lined up under its label', () => {
    const answer = '[scripted reply, not a model\'s answer] src/add.js exports add(a, b).\r\n\nIt returns a + b;\n  test/add.test.js checks it.\n\n';
    expect(describeAnswer(answer)).toEqual([
      'answer   [scripted reply, not a model\'s answer] src/add.js exports add(a, b).',
      '',
      '         It returns a + b;',
      '           test/add.test.js checks it.',
    ]);
  });

  it('does not cut a long answer', () => {
    const long = 'x'.repeat(5000);
    expect(describeAnswer(long)).toEqual([`answer   ${long}`]);
  });

  it('drops control characters, so a reply cannot drive the terminal, and keeps tabs', () => {
    expect(describeAnswer('red \u001b[31mtext\u0007\tend\u009b')).toEqual(['answer   red [31mtext\tend']);
  });

  it('shows nothing for a task without an answer', () => {
    expect(describeAnswer('')).toEqual([]);
    expect(describeAnswer(undefined)).toEqual([]);
    expect(describeAnswer('\n \n')).toEqual([]);
  });
});
