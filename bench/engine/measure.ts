/**
 * One measured phase: a fixed number of runs through a {@link RunTarget}, `concurrency` of them
 * in flight at a time (1 = sequential), bounded by a time budget. Throughput is runs ÷ (first
 * start → last end); latencies are per step and per run, nearest rank.
 */
import type { RunTarget } from './run-target.js';
import { percentile } from '../shared/stats.js';
import { nowMs } from './stats.js';

/** How a phase is run. */
export interface PhaseOptions {
  runs: number;
  /** Runs in flight at once; 1 = one run at a time. */
  concurrency: number;
  /** No run is started after this long; runs in flight still finish (each bounds itself). */
  budgetMs: number;
  /** First run index, so phases of one target never reuse a thread or run key. @default 0 */
  firstIndex?: number;
}

/** What a phase measured. */
export interface PhaseResult {
  concurrency: number;
  /** Runs that reached their final state. */
  runs: number;
  steps: number;
  seconds: number;
  runsPerSecond: number;
  stepsPerSecond: number;
  stepP50Ms: number;
  stepP99Ms: number;
  runP50Ms: number;
  runP99Ms: number;
  /** Runs that failed (their error counted, the first one kept). */
  errors: number;
  firstError?: string;
  /** False when the time budget ran out before every run was started. */
  finished: boolean;
}

/** Runs `options.runs` runs of `target` and measures them. */
export async function measurePhase(target: RunTarget, options: PhaseOptions): Promise<PhaseResult> {
  const firstIndex = options.firstIndex ?? 0;
  const stepLatencies: number[] = [];
  const runLatencies: number[] = [];
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  let finished = true;
  const started = nowMs();
  const deadline = started + options.budgetMs;

  async function worker(): Promise<void> {
    while (next < options.runs) {
      if (nowMs() > deadline) {
        finished = false;
        return;
      }
      const index = firstIndex + next++;
      const runStart = nowMs();
      try {
        const steps = await target.run(index);
        runLatencies.push(nowMs() - runStart);
        stepLatencies.push(...steps);
      } catch (err) {
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
    }
  }

  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, () => worker()));
  const seconds = (nowMs() - started) / 1000;
  return {
    concurrency: options.concurrency,
    runs: runLatencies.length,
    steps: stepLatencies.length,
    seconds,
    runsPerSecond: runLatencies.length / seconds,
    stepsPerSecond: stepLatencies.length / seconds,
    stepP50Ms: percentile(stepLatencies, 50),
    stepP99Ms: percentile(stepLatencies, 99),
    runP50Ms: percentile(runLatencies, 50),
    runP99Ms: percentile(runLatencies, 99),
    errors,
    ...(firstError !== undefined ? { firstError } : {}),
    finished,
  };
}
