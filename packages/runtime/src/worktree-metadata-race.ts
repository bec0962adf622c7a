/**
 * Git keeps each linked worktree's metadata in `<common dir>/worktrees/<name>/` and writes it
 * file by file (`gitdir`, then `commondir`, then `HEAD`, …). Every worktree command (`add`,
 * `list`, `remove`) reads the metadata of all of them, so one that runs while another process's
 * `git worktree add` is half-way through reads an empty file and dies with
 * `fatal: failed to read .git/worktrees/<name>/commondir: Success`. Two executors starting
 * subtasks in one repository at once meet exactly that (an in-process mutex cannot help: the
 * other writer is another process, or a person's own git); a moment later the metadata is whole.
 * So our worktree commands are run again, a bounded number of times, while that is their failure.
 */
import { systemClock, type Clock } from './clock.js';

/**
 * The metadata directory git could not read when `stderr` is that failure (the path as git
 * printed it, e.g. `.git/worktrees/a30`), else undefined.
 */
export function unreadableWorktreeMetadata(stderr: string): string | undefined {
  const match = /failed to read (\S*worktrees\/[^/\s]+)\/(?:commondir|gitdir|HEAD)\b/.exec(stderr);
  return match?.[1];
}

/** How long a worktree command waits for another process's metadata to be whole. */
export interface WorktreeRaceRetry {
  /** @default systemClock */
  clock?: Clock;
  /** Tries in all. @default 6 */
  attempts?: number;
  /** The first wait, doubled after each try (20 + 40 + … + 320 ms by default). @default 20 */
  firstDelayMs?: number;
}

const WorktreeRaceRetryDefaults = { clock: systemClock, attempts: 6, firstDelayMs: 20 } satisfies Required<WorktreeRaceRetry>;

/**
 * Runs `run` (one git worktree command) and again, after a doubling wait, while `stderrOf` its
 * outcome is the half-written-metadata failure; returns the last outcome, whatever it is.
 */
export async function retryWhileWorktreeMetadataHalfWritten<T>(run: () => Promise<T>, stderrOf: (outcome: T) => string | undefined, retry: WorktreeRaceRetry = {}): Promise<T> {
  const { clock, attempts, firstDelayMs } = { ...WorktreeRaceRetryDefaults, ...retry };
  let delayMs = firstDelayMs;
  for (let attempt = 1; ; attempt++) {
    const outcome = await run();
    const stderr = stderrOf(outcome);
    if (attempt >= attempts || stderr === undefined || unreadableWorktreeMetadata(stderr) === undefined) return outcome;
    await clock.sleep(delayMs);
    delayMs *= 2;
  }
}
