/**
 * A probe's "work" (`kind: 'probe'`, canaries and benchmarks): nothing, or a sleep of
 * `probeWorkMs` cut short (and handed back) by shutdown. It never builds a model or a write
 * guard and never looks at `repoPath`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SubtaskResult, SubtaskWork } from '@maestro/contracts';
import { OperationalError, type Clock } from '@maestro/runtime';
import { toProbeResult } from '../domain/probe.js';
import type { ResultOrigin } from '../domain/subtask-result.js';
import { handedBack, type WorkDelivery } from './work-delivery.js';

/** What {@link runProbe} needs. */
export interface ProbeRunnerOptions {
  clock: Clock;
  /** Whether `clock` was injected (tests): then the sleep runs on it, else on a real timer the signal cancels. */
  injectedClock: boolean;
  /** Sub-millisecond time the probe's work starts at. */
  preciseNow: () => number;
  origin: () => ResultOrigin;
}

/** Runs one probe and returns its result; throws `PROBE_FAILED` for a poison probe, a hand-back on shutdown. */
export async function runProbe(work: SubtaskWork, delivery: WorkDelivery, options: ProbeRunnerOptions): Promise<SubtaskResult> {
  const startedAt = options.preciseNow();
  if (work.probeFail === true) {
    // The poison item for drills: retryable every time, so it walks the whole nak/backoff
    // path to the dead-letter subject.
    throw new OperationalError('PROBE_FAILED', 'probe work asked to fail (probeFail: true)');
  }
  const workMs = work.probeWorkMs ?? 0;
  if (workMs > 0) await sleepUnlessAborted(workMs, delivery.signal, options);
  if (delivery.signal?.aborted) throw handedBack(undefined);
  return toProbeResult(work, { startedAt }, options.origin());
}

/** Sleeps on the clock, returning early when the signal aborts. */
async function sleepUnlessAborted(ms: number, signal: AbortSignal | undefined, options: ProbeRunnerOptions): Promise<void> {
  if (signal === undefined) return options.clock.sleep(ms);
  if (signal.aborted) return;
  if (!options.injectedClock) {
    // The wall clock: a timer the signal cancels, so none is left behind on shutdown.
    await sleep(ms, undefined, { signal }).catch(() => undefined);
    return;
  }
  let onAbort: (() => void) | undefined;
  await Promise.race([
    options.clock.sleep(ms),
    new Promise<void>((resolve) => {
      onAbort = resolve;
      signal.addEventListener('abort', onAbort, { once: true });
    }),
  ]);
  if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
}
