/**
 * A probe's "work" (`kind: 'probe'`, canaries and benchmarks): nothing, or a sleep of
 * `probeWorkMs` cut short (and handed back) by shutdown. It never builds a model or a write
 * guard and never looks at `repoPath`.
 */
import type { SubtaskResult, SubtaskWork } from '@maestro/contracts';
import { OperationalError, type Clock } from '@maestro/runtime';
import { toProbeResult } from '../domain/probe.js';
import type { ResultOrigin } from '../domain/subtask-result.js';
import { handedBack, type WorkDelivery } from './work-delivery.js';

/** What {@link runProbe} needs. */
export interface ProbeRunnerOptions {
  /** Times the probe's sleep (its timer is dropped when the delivery's signal aborts). */
  clock: Clock;
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
  // Clock.sleep rejects only when the signal aborts: shutdown cuts the sleep short.
  if (workMs > 0) await options.clock.sleep(workMs, delivery.signal).catch(() => undefined);
  if (delivery.signal?.aborted) throw handedBack(undefined);
  return toProbeResult(work, { startedAt }, options.origin());
}
