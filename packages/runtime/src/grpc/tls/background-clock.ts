/**
 * The wall clock for background chores that must not keep a process alive on their own, such
 * as re-reading certificate files: a server's socket or a channel's connection keeps the
 * process running while the chore matters; once they are gone, a pending re-read should not.
 */
import { systemClock, type Clock } from '../../clock.js';

/** `systemClock` with unreferenced timers (Node's `timeout.unref()`). */
export const backgroundClock: Clock = {
  now: () => systemClock.now(),
  sleep: (ms, signal) => systemClock.sleep(ms, signal),
  setTimer: (ms, fn) => {
    const handle = setTimeout(fn, Math.max(0, ms));
    handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
};
