import { Subjects } from '@maestro/contracts';
import { ManualClock } from '@maestro/runtime';
import type { Logger } from '@maestro/runtime';
import type { Lease } from '../../domain/lease.js';
import { createBusLockEventPublisher } from './lock-event.publisher.js';
import type { EventBus } from './lock-event.publisher.js';

const lease = (leaseId: string): Lease => ({
  leaseId,
  owner: 'exec-A',
  concerns: ['resource:x'],
  sharedConcerns: [],
  fencingToken: 7,
  expiresAt: 60_000,
});

/** A bus that records what it is given, in order. */
function recordingBus(): EventBus & { sent: Array<{ subject: string; payload: Record<string, unknown> }> } {
  const sent: Array<{ subject: string; payload: Record<string, unknown> }> = [];
  return {
    sent,
    publishLive: (subject, payload) => {
      sent.push({ subject, payload: payload as Record<string, unknown> });
    },
  };
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('createBusLockEventPublisher', () => {
  it('sends after the turn that made the events, in the order they happened, each stamped when it happened', async () => {
    const bus = recordingBus();
    const clock = new ManualClock(1_000);
    const events = createBusLockEventPublisher(bus, { clock });
    void events.acquired(lease('L1'));
    clock.advance(5);
    void events.released(lease('L1'));
    void events.expired(lease('L2'));
    // Nothing leaves while the grant or release that caused the events is still being answered.
    expect(bus.sent).toEqual([]);
    await nextTurn();
    expect(bus.sent.map((e) => [e.subject, e.payload.leaseId, e.payload.reason, e.payload.at])).toEqual([
      [Subjects.lockAcquired, 'L1', 'granted', new Date(1_000).toISOString()],
      [Subjects.lockReleased, 'L1', 'released', new Date(1_005).toISOString()],
      [Subjects.lockExpired, 'L2', 'expired', new Date(1_005).toISOString()],
    ]);
  });

  it('logs an event the bus refuses and keeps sending the ones after it', async () => {
    const warned: unknown[] = [];
    const logger = { warn: (message: string, fields: unknown) => warned.push({ message, fields }) } as unknown as Logger;
    const sent: string[] = [];
    const bus: EventBus = {
      publishLive: (subject, payload) => {
        if ((payload as { leaseId: string }).leaseId === 'L1') throw new Error('connection closed');
        sent.push(subject);
      },
    };
    const events = createBusLockEventPublisher(bus, { logger, clock: new ManualClock(0) });
    await expect(events.acquired(lease('L1'))).resolves.toBeUndefined();
    await events.released(lease('L2'));
    expect(sent).toEqual([Subjects.lockReleased]);
    expect(warned).toEqual([{ message: 'lock event not published', fields: expect.objectContaining({ subject: Subjects.lockAcquired }) }]);
  });
});
