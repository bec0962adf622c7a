import { ManualClock } from '@maestro/runtime';
import { startHeartbeat } from './heartbeat.js';

describe('startHeartbeat', () => {
  it('beats every interval of the clock\'s time until cancelled, also when a beat cancels it', () => {
    const clock = new ManualClock(0);
    const beats: number[] = [];
    const heartbeat = startHeartbeat(clock, 1000, () => beats.push(clock.now()));
    clock.advance(999);
    expect(beats).toEqual([]);
    clock.advance(2001);
    expect(beats).toEqual([1000, 2000, 3000]);
    heartbeat.cancel();
    clock.advance(5000);
    expect(beats).toHaveLength(3);
    expect(clock.pendingTimers).toBe(0);

    const self = startHeartbeat(clock, 1000, () => self.cancel());
    clock.advance(1000);
    expect(clock.pendingTimers).toBe(0);
  });
});
