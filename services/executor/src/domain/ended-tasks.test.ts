import { ManualClock } from '@maestro/runtime';
import { EndedTasks, isFinalTaskStatus } from './ended-tasks.js';

describe('EndedTasks', () => {
  it('remembers tasks that reached a final status and ignores other statuses', () => {
    const ended = new EndedTasks({ clock: new ManualClock(0) });
    expect(ended.observe('t-running', 'running')).toBe(false);
    expect(ended.observe('t-cancel', 'cancelled')).toBe(true);
    expect(ended.observe('t-fail', 'failed')).toBe(true);
    expect(ended.observe('t-ok', 'succeeded')).toBe(true);
    expect(ended.get('t-running')).toBeUndefined();
    expect(ended.get('t-cancel')).toBe('cancelled');
    expect(ended.get('t-fail')).toBe('failed');
    expect(ended.get('t-ok')).toBe('succeeded');
    expect(isFinalTaskStatus('planning')).toBe(false);
  });

  it('keeps the first final status of a task', () => {
    const ended = new EndedTasks({ clock: new ManualClock(0) });
    ended.observe('t', 'cancelled');
    expect(ended.observe('t', 'failed')).toBe(false);
    expect(ended.get('t')).toBe('cancelled');
  });

  it('forgets the oldest task past maxEntries', () => {
    const ended = new EndedTasks({ clock: new ManualClock(0), maxEntries: 2 });
    ended.observe('a', 'cancelled');
    ended.observe('b', 'cancelled');
    ended.observe('c', 'failed');
    expect(ended.size).toBe(2);
    expect(ended.get('a')).toBeUndefined();
    expect(ended.get('b')).toBe('cancelled');
    expect(ended.get('c')).toBe('failed');
  });

  it('forgets a task after ttlMs of the clock', () => {
    const clock = new ManualClock(0);
    const ended = new EndedTasks({ clock, ttlMs: 1_000 });
    ended.observe('old', 'cancelled');
    clock.advance(999);
    expect(ended.get('old')).toBe('cancelled');
    clock.advance(1);
    expect(ended.get('old')).toBeUndefined();
    ended.observe('new', 'failed'); // sweeps expired entries
    expect(ended.size).toBe(1);
  });

  it('tells a watcher once when its task ends, and not after it stopped watching', () => {
    const ended = new EndedTasks({ clock: new ManualClock(0) });
    const heard: string[] = [];
    ended.watch('t1', (status) => heard.push(`t1:${status}`));
    const stop = ended.watch('t2', (status) => heard.push(`t2:${status}`));
    ended.observe('t1', 'running');
    ended.observe('t1', 'cancelled');
    ended.observe('t1', 'failed');
    stop();
    ended.observe('t2', 'cancelled');
    expect(heard).toEqual(['t1:cancelled']);
  });

  it('tells a watcher at once when its task has already ended', () => {
    const ended = new EndedTasks({ clock: new ManualClock(0) });
    ended.observe('t', 'failed');
    const heard: string[] = [];
    ended.watch('t', (status) => heard.push(status));
    expect(heard).toEqual(['failed']);
  });
});
