/**
 * The benchmark's course, for any set of targets: per target a warm-up (not measured), then a
 * sequential phase (one run at a time) and a concurrent phase (`concurrency` runs in flight),
 * each of a fixed number of runs. Used by `run.ts` (the real engine process) and by the smoke
 * test (tiny counts).
 */
import { measurePhase, type PhaseResult } from './measure.js';
import type { RunTarget } from './run-target.js';

/** What a target is in the comparison. */
export const TargetRoles = { ours: 'ours', peer: 'peer', floor: 'floor' } as const;
export type TargetRole = (typeof TargetRoles)[keyof typeof TargetRoles];

/** A target with its role. */
export interface BenchEntry {
  role: TargetRole;
  target: RunTarget;
}

/** Phase sizes. */
export interface EngineBenchOptions {
  /** Runs of the sequential phase. */
  sequentialRuns: number;
  /** Runs of the concurrent phase. */
  concurrentRuns: number;
  /** Runs in flight in the concurrent phase. */
  concurrency: number;
  /** Runs before measuring (at `concurrency`), not counted. */
  warmupRuns: number;
  /** A phase starts no run after this long. */
  phaseBudgetMs: number;
}

/** Both phases of one target. */
export interface BenchResult {
  role: TargetRole;
  name: string;
  settings: string;
  sequential: PhaseResult;
  concurrent: PhaseResult;
}

/** Runs every target's phases, one target after the other; `progress` gets a line per phase. */
export async function runEngineBench(entries: readonly BenchEntry[], options: EngineBenchOptions, progress: (line: string) => void): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const { role, target } of entries) {
    let index = 0;
    const phase = async (runs: number, concurrency: number): Promise<PhaseResult> => {
      const result = await measurePhase(target, { runs, concurrency, budgetMs: options.phaseBudgetMs, firstIndex: index });
      index += runs;
      return result;
    };
    if (options.warmupRuns > 0) await phase(options.warmupRuns, options.concurrency);
    const sequential = await phase(options.sequentialRuns, 1);
    progress(`  done: ${target.name}, sequential (${sequential.runs} runs, ${sequential.errors} errors)`);
    const concurrent = await phase(options.concurrentRuns, options.concurrency);
    progress(`  done: ${target.name}, ${options.concurrency} concurrent (${concurrent.runs} runs, ${concurrent.errors} errors)`);
    results.push({ role, name: target.name, settings: target.settings, sequential, concurrent });
  }
  return results;
}
