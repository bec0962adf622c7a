import { createSilentLogger } from '@maestro/runtime';
import type { BusEvent } from '../../ports.js';
import { RunEventHub } from './run-event-hub.js';

const event = (runId: unknown, subject = 'maestro.events.run.transitioned'): BusEvent => ({ subject, payload: { runId } });

describe('RunEventHub', () => {
  it('delivers an event only to the listeners of its run, until they stop listening', () => {
    const hub = new RunEventHub(createSilentLogger());
    const seenA: BusEvent[] = [];
    const seenB: BusEvent[] = [];
    const stopA = hub.listen('run-a', (e) => seenA.push(e));
    hub.listen('run-b', (e) => seenB.push(e));

    hub.dispatch(event('run-a'));
    hub.dispatch(event('run-b'));
    hub.dispatch(event(undefined, 'maestro.events.lock.acquired'));
    stopA();
    hub.dispatch(event('run-a'));

    expect(seenA).toHaveLength(1);
    expect(seenB).toHaveLength(1);
    expect(hub.watchedRuns).toBe(1);
  });

  it('keeps delivering to other listeners when one throws', () => {
    const hub = new RunEventHub(createSilentLogger());
    const seen: BusEvent[] = [];
    hub.listen('run-a', () => {
      throw new Error('broken stream');
    });
    hub.listen('run-a', (e) => seen.push(e));
    hub.dispatch(event('run-a'));
    expect(seen).toHaveLength(1);
  });
});

describe('RunEventHub lifecycle listeners', () => {
  it('delivers run and task lifecycle events, not steps or locks, until the listener stops', () => {
    const hub = new RunEventHub(createSilentLogger());
    const seen: string[] = [];
    const stop = hub.listenAll((e) => seen.push(e.subject));
    hub.dispatch(event('run-a', 'maestro.events.run.started'));
    hub.dispatch(event('run-a', 'maestro.events.work.step'));
    hub.dispatch({ subject: 'maestro.events.task.updated', payload: { taskId: 't1', status: 'running' } });
    hub.dispatch(event(undefined, 'maestro.events.lock.acquired'));
    expect(hub.lifecycleListenerCount).toBe(1);
    stop();
    hub.dispatch(event('run-a', 'maestro.events.run.finished'));
    expect(seen).toEqual(['maestro.events.run.started', 'maestro.events.task.updated']);
    expect(hub.lifecycleListenerCount).toBe(0);
  });
});

describe('RunEventHub lock listeners', () => {
  it('delivers every lock event, and nothing else, until the listener stops', () => {
    const hub = new RunEventHub(createSilentLogger());
    const seen: string[] = [];
    const stop = hub.listenLocks((e) => seen.push(e.subject));
    for (const verb of ['acquired', 'released', 'expired', 'waiting']) hub.dispatch(event(undefined, `maestro.events.lock.${verb}`));
    hub.dispatch(event('run-a', 'maestro.events.run.started'));
    hub.dispatch(event('run-a', 'maestro.events.work.step'));
    expect(hub.lockListenerCount).toBe(1);
    stop();
    hub.dispatch(event(undefined, 'maestro.events.lock.acquired'));
    expect(seen).toEqual(['maestro.events.lock.acquired', 'maestro.events.lock.released', 'maestro.events.lock.expired', 'maestro.events.lock.waiting']);
    expect(hub.lockListenerCount).toBe(0);
  });
});
