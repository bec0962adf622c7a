import { classifyOperation, formatTable, isClean, summarize, type ObservedTask, type OperationRecord } from './jepsen-table.js';

const done = (id: string, overrides: Partial<ObservedTask> = {}): ObservedTask => ({
  id,
  status: 'succeeded',
  failureReason: null,
  terminalEvents: ['succeeded'],
  commitsBySubtask: { s1: 1, s2: 1 },
  ...overrides,
});

const op = (id: string, outcome: OperationRecord['outcome'], tasks: ObservedTask[], detail?: string): OperationRecord => ({
  id,
  outcome,
  tasks,
  ...(detail !== undefined ? { detail } : {}),
});

describe('classifyOperation', () => {
  it('passes an accepted submission whose one task succeeded with one commit per subtask', () => {
    expect(classifyOperation(op('a', 'ok', [done('t1')]))).toMatchObject({ terminal: 'done', lost: false, duplicated: false, doubleEffects: 0, problems: [] });
  });

  it('counts an accepted submission without a task as lost', () => {
    const v = classifyOperation(op('a', 'ok', []));
    expect(v.lost).toBe(true);
    expect(v.problems[0]).toContain('no task carries its marker');
  });

  it('lets an unknown or refused submission that never happened pass', () => {
    expect(classifyOperation(op('a', 'unknown', [])).problems).toEqual([]);
    expect(classifyOperation(op('a', 'failed', [])).problems).toEqual([]);
  });

  it('holds an unknown submission that did happen to the same rules as an accepted one', () => {
    expect(classifyOperation(op('a', 'unknown', [done('t1', { status: 'running', terminalEvents: [] })])).lost).toBe(true);
    expect(classifyOperation(op('a', 'unknown', [done('t1')])).terminal).toBe('done');
  });

  it('counts a task that never ended, or failed without a reason, as lost', () => {
    expect(classifyOperation(op('a', 'ok', [done('t1', { status: 'running', terminalEvents: [] })])).lost).toBe(true);
    const noReason = classifyOperation(op('a', 'ok', [done('t1', { status: 'failed', failureReason: ' ', terminalEvents: ['failed'] })]));
    expect(noReason.lost).toBe(true);
    expect(noReason.problems[0]).toContain('without a reason');
  });

  it('accepts failed with a reason and dead-lettered as terminal states', () => {
    const failed = done('t1', { status: 'failed', failureReason: 'tests failed', terminalEvents: ['failed'], commitsBySubtask: { s1: 0 } });
    expect(classifyOperation(op('a', 'ok', [failed]))).toMatchObject({ terminal: 'failed', lost: false });
    expect(classifyOperation(op('a', 'ok', [{ ...failed, deadLettered: true }])).terminal).toBe('dead-lettered');
  });

  it('counts two tasks for one submission, and a task that ended twice differently, as duplicated', () => {
    expect(classifyOperation(op('a', 'ok', [done('t1'), done('t2')])).duplicated).toBe(true);
    expect(classifyOperation(op('a', 'ok', [done('t1', { terminalEvents: ['succeeded', 'succeeded'] })])).duplicated).toBe(false);
    expect(classifyOperation(op('a', 'ok', [done('t1', { terminalEvents: ['failed', 'succeeded'] })])).duplicated).toBe(true);
  });

  it('counts every extra commit of a subtask as a double effect, and a missing one of a done task as lost', () => {
    expect(classifyOperation(op('a', 'ok', [done('t1', { commitsBySubtask: { s1: 3, s2: 1 } })])).doubleEffects).toBe(2);
    expect(classifyOperation(op('a', 'ok', [done('t1', { commitsBySubtask: { s1: 0, s2: 1 } })])).lost).toBe(true);
  });

  it('counts a submission whose tasks cannot be listed as lost, saying why', () => {
    const v = classifyOperation({ ...op('a', 'ok', []), unobservable: '503 orchestrator unavailable' });
    expect(v.lost).toBe(true);
    expect(v.problems[0]).toContain('could not be listed after the run (503 orchestrator unavailable)');
  });

  it('flags a refused submission that happened anyway as a phantom', () => {
    const v = classifyOperation(op('a', 'failed', [done('t1')], '400'));
    expect(v.phantom).toBe(true);
    expect(v.problems[0]).toContain('refused (400)');
  });
});

describe('summarize and formatTable', () => {
  it('sums the outcomes and anomalies into one row and prints it with its problems', () => {
    const row = summarize('demo', [op('a', 'ok', [done('t1')]), op('b', 'unknown', []), op('c', 'failed', [], '400'), op('d', 'ok', [])]);
    expect(row).toMatchObject({ invoked: 4, ok: 2, failed: 1, unknown: 1, lost: 1, duplicated: 0, doubleEffects: 0, phantoms: 0 });
    expect(row.terminal.done).toBe(1);
    expect(isClean(row)).toBe(false);
    const text = formatTable([row], ['a note']);
    expect(text.split('\n')[0]).toMatch(/^\| scenario \| invoked \| ok \| failed \| unknown \| lost \| duplicated \| double-effects \|/);
    expect(text).toContain('| demo ');
    expect(text).toContain('✗ demo: d: accepted, but no task carries its marker');
    expect(text).toContain('· a note');
  });

  it('calls a row without anomalies clean', () => {
    expect(isClean(summarize('ok', [op('a', 'ok', [done('t1')])]))).toBe(true);
  });
});
