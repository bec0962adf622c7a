/**
 * A repeating timer on the injected {@link Clock} (which has one-shot timers only), for the SSE
 * heartbeats: tests move a `ManualClock` instead of waiting for real intervals.
 */
import type { Clock, Timer } from '@maestro/runtime';

/**
 * Calls `beat` every `intervalMs` of `clock`'s time until the returned timer is cancelled. The
 * next beat is scheduled before `beat` runs, so a beat that cancels (a stream ending) stops it.
 */
export function startHeartbeat(clock: Clock, intervalMs: number, beat: () => void): Timer {
  let stopped = false;
  let timer: Timer | undefined;
  const schedule = (): void => {
    timer = clock.setTimer(intervalMs, () => {
      if (stopped) return;
      schedule();
      beat();
    });
  };
  schedule();
  return {
    cancel: () => {
      stopped = true;
      timer?.cancel();
    },
  };
}
