/**
 * Runs a function at most once per interval, trailing: bursts of live events cause one re-read,
 * not one per event.
 */

/** Returns a function that schedules `run` once per `ms` at most, plus `cancel`. */
export function throttle(run: () => void, ms: number): { schedule: () => void; cancel: () => void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return {
    schedule() {
      if (timer !== undefined) return;
      timer = setTimeout(() => {
        timer = undefined;
        run();
      }, ms);
    },
    cancel() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}
