import { ManualClock } from '@maestro/runtime';
import { belowFloorMessage, DiskFloorDefaults, freeBelowFloor, mib, statfsFreeBytes, watchDiskFloor, type DiskFloor } from './disk-floor.js';

const MIB = 1024 * 1024;
const floor: DiskFloor = { path: '/work/tree', minFreeBytes: 100 * MIB };

describe('freeBelowFloor', () => {
  it('answers the free space only when it is below the floor', () => {
    expect(freeBelowFloor(floor, () => 100 * MIB)).toBeUndefined();
    expect(freeBelowFloor(floor, () => 99 * MIB)).toBe(99 * MIB);
  });

  it('answers nothing when the free space cannot be read', () => {
    expect(
      freeBelowFloor(floor, () => {
        throw new Error('ENOENT');
      }),
    ).toBeUndefined();
  });

  it('reads a real filesystem with statfs', () => {
    expect(statfsFreeBytes('/')).toBeGreaterThan(0);
  });
});

describe('watchDiskFloor', () => {
  it('reads every checkMs and calls onBelow once, naming free space and floor, then stops reading', () => {
    const clock = new ManualClock();
    const free = [500, 300, 90, 80].map((n) => n * MIB);
    const reads: number[] = [];
    const calls: string[] = [];
    watchDiskFloor(floor, (message) => calls.push(message), {
      clock,
      checkMs: 50,
      freeBytes: () => {
        const value = free[Math.min(reads.length, free.length - 1)]!;
        reads.push(value);
        return value;
      },
    });
    expect(reads).toHaveLength(0);
    clock.advance(100);
    expect(reads).toHaveLength(2);
    expect(calls).toEqual([]);
    clock.advance(50);
    expect(calls).toEqual([belowFloorMessage(floor, 90 * MIB)]);
    expect(calls[0]).toContain('90.0 MiB');
    expect(calls[0]).toContain('100.0 MiB');
    clock.advance(1_000);
    expect(reads).toHaveLength(3);
    expect(clock.pendingTimers).toBe(0);
  });

  it('stops reading once stopped', () => {
    const clock = new ManualClock();
    let reads = 0;
    const stop = watchDiskFloor(floor, () => undefined, {
      clock,
      freeBytes: () => {
        reads += 1;
        return 1_000 * MIB;
      },
    });
    clock.advance(DiskFloorDefaults.checkMs * 3);
    expect(reads).toBe(3);
    stop();
    expect(clock.pendingTimers).toBe(0);
    clock.advance(DiskFloorDefaults.checkMs * 3);
    expect(reads).toBe(3);
  });

  it('keeps watching through a reading that fails', () => {
    const clock = new ManualClock();
    const results: Array<number | Error> = [new Error('EIO'), 10 * MIB];
    const calls: string[] = [];
    watchDiskFloor(floor, (message) => calls.push(message), {
      clock,
      checkMs: 10,
      freeBytes: () => {
        const next = results.shift()!;
        if (next instanceof Error) throw next;
        return next;
      },
    });
    clock.advance(10);
    expect(calls).toEqual([]);
    clock.advance(10);
    expect(calls).toHaveLength(1);
  });
});

it('mib writes bytes as MiB with one decimal', () => {
  expect(mib(1.5 * MIB)).toBe('1.5 MiB');
});
