import { planOrder, scheduleSubtasks, type SchedulableSubtask } from './concern-schedule.js';

let position = 0;
/** A waiting subtask of plan position `position++`, with `overrides`. */
function st(id: string, overrides: Partial<SchedulableSubtask> = {}): SchedulableSubtask {
  return { id, position: position++, status: 'pending', concerns: [], dependsOn: [], replaces: null, ...overrides };
}

beforeEach(() => {
  position = 0;
});

const A = 'file:/repo/src/a.js';
const B = 'file:/repo/src/b.js';

describe('scheduleSubtasks', () => {
  it('runs two subtasks on the same file one after the other, in plan order', () => {
    const first = scheduleSubtasks([st('s1', { concerns: [A] }), st('s2', { concerns: [A] })]);
    expect(first.dispatch).toEqual(['s1']);
    expect(first.waiting).toEqual([{ subtaskId: 's2', reason: `waits for s1 (running): ${A} conflicts with ${A}` }]);

    position = 0;
    const whileRunning = scheduleSubtasks([st('s1', { concerns: [A], status: 'running' }), st('s2', { concerns: [A] })]);
    expect(whileRunning.dispatch).toEqual([]);

    position = 0;
    const after = scheduleSubtasks([st('s1', { concerns: [A], status: 'succeeded' }), st('s2', { concerns: [A] })]);
    expect(after.dispatch).toEqual(['s2']);
  });

  it('runs the next on a shared file after a failure too: only dependsOn fails dependents', () => {
    const after = scheduleSubtasks([st('s1', { concerns: [A], status: 'failed' }), st('s2', { concerns: [A] })]);
    expect(after).toMatchObject({ dispatch: ['s2'], fail: [] });
  });

  it('runs disjoint subtasks in parallel', () => {
    expect(scheduleSubtasks([st('s1', { concerns: [A] }), st('s2', { concerns: [B] }), st('s3')]).dispatch).toEqual(['s1', 's2', 's3']);
  });

  it('keeps a later subtask waiting behind an earlier waiting one it conflicts with, and lets disjoint ones pass', () => {
    // s2 waits for s1 (a dependency); s3 shares s2's file, so it waits behind s2 although s2 has not started.
    const schedule = scheduleSubtasks([
      st('s1', { concerns: [B], status: 'running' }),
      st('s2', { concerns: [A], dependsOn: ['s1'] }),
      st('s3', { concerns: [A] }),
      st('s4', { concerns: ['file:/repo/src/c.js'] }),
    ]);
    expect(schedule.dispatch).toEqual(['s4']);
    expect(schedule.waiting).toEqual([
      { subtaskId: 's2', reason: 'waits for s1 to succeed' },
      { subtaskId: 's3', reason: `waits for s2 (earlier in plan order): ${A} conflicts with ${A}` },
    ]);
  });

  it('treats a directory as covering every path inside it, both ways', () => {
    const dir = 'dir:/repo/src';
    expect(scheduleSubtasks([st('s1', { concerns: [dir] }), st('s2', { concerns: [A] })]).dispatch).toEqual(['s1']);
    position = 0;
    expect(scheduleSubtasks([st('s1', { concerns: [A] }), st('s2', { concerns: [dir] })]).dispatch).toEqual(['s1']);
    position = 0;
    // A sibling whose name merely starts the same is not inside.
    expect(scheduleSubtasks([st('s1', { concerns: [dir] }), st('s2', { concerns: ['file:/repo/src2/a.js'] })]).dispatch).toEqual(['s1', 's2']);
  });

  it('serializes equal ports and named resources, not different ones', () => {
    expect(scheduleSubtasks([st('s1', { concerns: ['port:3000'] }), st('s2', { concerns: ['port:3000'] })]).dispatch).toEqual(['s1']);
    position = 0;
    expect(scheduleSubtasks([st('s1', { concerns: ['port:3000'] }), st('s2', { concerns: ['port:3001'] })]).dispatch).toEqual(['s1', 's2']);
    position = 0;
    const db = 'resource:staging-db';
    expect(scheduleSubtasks([st('s1', { concerns: [db] }), st('s2', { concerns: [db, B] })]).dispatch).toEqual(['s1']);
    position = 0;
    // A port and a resource of the same name are different things.
    expect(scheduleSubtasks([st('s1', { concerns: ['port:3000'] }), st('s2', { concerns: ['resource:3000'] })]).dispatch).toEqual(['s1', 's2']);
  });

  it('starts a subtask only once everything it depends on succeeded', () => {
    const waiting = scheduleSubtasks([st('s1'), st('s2', { dependsOn: ['s1'] })]);
    expect(waiting.dispatch).toEqual(['s1']);
    expect(waiting.waiting).toEqual([{ subtaskId: 's2', reason: 'waits for s1 to succeed' }]);
    position = 0;
    const ready = scheduleSubtasks([st('s1', { status: 'succeeded' }), st('s2', { dependsOn: ['s1'] }), st('s3', { dependsOn: ['s1', 's2'] })]);
    expect(ready.dispatch).toEqual(['s2']);
  });

  it('fails the dependents of a failed subtask, and theirs, without running them', () => {
    const schedule = scheduleSubtasks([
      st('s1', { status: 'failed' }),
      st('s2', { dependsOn: ['s1'] }),
      st('s3', { dependsOn: ['s2'] }),
      st('s4'),
    ]);
    expect(schedule.fail).toEqual([
      { subtaskId: 's2', reason: 'not run: it depends on s1, which failed' },
      { subtaskId: 's3', reason: 'not run: it depends on s2, which failed' },
    ]);
    expect(schedule.dispatch).toEqual(['s4']);
  });

  it('fails a subtask that depends on a subtask the task does not have', () => {
    expect(scheduleSubtasks([st('s1', { dependsOn: ['nope'] })]).fail).toEqual([
      { subtaskId: 's1', reason: 'not run: it depends on nope, which the task does not have' },
    ]);
  });

  it('lets a re-plan take the replaced subtask\'s place: in plan order and in the dependsOn of later subtasks', () => {
    // s1 escalated and was replaced by s1.1 and s1.2 (appended at the end of the list). s2 depends on s1;
    // s3 shares s1.1's file and was planned after s1, so it keeps waiting behind s1.1.
    const subtasks = [
      st('s1', { status: 'replaced', concerns: [A] }),
      st('s2', { dependsOn: ['s1'] }),
      st('s3', { concerns: [A] }),
      st('s1.1', { replaces: 's1', concerns: [A] }),
      st('s1.2', { replaces: 's1', concerns: [B] }),
    ];
    expect(planOrder(subtasks).map((s) => s.id)).toEqual(['s1', 's1.1', 's1.2', 's2', 's3']);
    const first = scheduleSubtasks(subtasks);
    expect(first.dispatch).toEqual(['s1.1', 's1.2']);
    expect(first.waiting.map((w) => w.subtaskId)).toEqual(['s2', 's3']);

    const next = scheduleSubtasks(subtasks.map((s) => (s.id === 's1.1' ? { ...s, status: 'succeeded' as const } : s.id === 's1.2' ? { ...s, status: 'running' as const } : s)));
    expect(next.dispatch).toEqual(['s3']);
    expect(next.waiting).toEqual([{ subtaskId: 's2', reason: 'waits for s1.2 to succeed' }]);

    const failed = scheduleSubtasks(subtasks.map((s) => (s.id === 's1.2' ? { ...s, status: 'failed' as const } : s)));
    expect(failed.fail).toEqual([{ subtaskId: 's2', reason: 'not run: it depends on s1.2, which failed' }]);
  });

  it('never deadlocks: a subtask that depends on a later-listed one waits for it, not the other way round', () => {
    // The plan lists s2 before s1 but s2 depends on s1, and both touch a.js.
    const subtasks = [st('s2', { concerns: [A], dependsOn: ['s1'] }), st('s1', { concerns: [A] })];
    expect(scheduleSubtasks(subtasks).dispatch).toEqual(['s1']);
  });

  it('starts nothing for subtasks that are running or final', () => {
    const schedule = scheduleSubtasks([st('s1', { status: 'running' }), st('s2', { status: 'succeeded' }), st('s3', { status: 'replaced' })]);
    expect(schedule).toEqual({ dispatch: [], fail: [], waiting: [] });
  });
});
