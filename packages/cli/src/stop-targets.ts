/**
 * Stopping a set of processes the way `maestro down`, a foreground `maestro up` and its
 * watchdog all do: SIGTERM to each, a grace period, SIGKILL to what is left, a short wait.
 * What a target is (a process, or the process group a service leads) and how to tell it is
 * still ours is the caller's; this only sequences the signals.
 */
import { systemClock, type Clock } from '@maestro/runtime';
import { CliDefaults } from './cli-env.js';

/** Something to stop: one process or one process group. */
export interface StopTarget {
  label: string;
  pid: number;
  /** True while anything of it that is still ours runs (checked before each signal). */
  alive(): boolean;
  signal(signal: NodeJS.Signals): void;
}

/** Options for {@link stopTargets}. */
export interface StopTargetsOptions {
  /** How long SIGTERM gets before SIGKILL. @default CliDefaults.stopGraceMs */
  graceMs?: number;
  /** How long to wait after SIGKILL. @default CliDefaults.killWaitMs */
  killWaitMs?: number;
  /** How often to look whether the targets are gone. @default CliDefaults.stopPollMs */
  pollMs?: number;
  /** Told about each target that needed SIGKILL. */
  onKill?: (target: StopTarget) => void;
  /** @default systemClock */
  clock?: Clock;
}

async function waitGone(targets: readonly StopTarget[], timeoutMs: number, pollMs: number, clock: Clock): Promise<void> {
  const deadline = clock.now() + timeoutMs;
  while (targets.some((t) => t.alive()) && clock.now() < deadline) await clock.sleep(pollMs);
}

/**
 * SIGTERM to every target that is alive (in the order given), SIGKILL to those still alive
 * after the grace period; resolves with the targets still alive after that.
 */
export async function stopTargets(targets: readonly StopTarget[], options: StopTargetsOptions = {}): Promise<StopTarget[]> {
  const clock = options.clock ?? systemClock;
  const pollMs = options.pollMs ?? CliDefaults.stopPollMs;
  const alive = targets.filter((t) => t.alive());
  for (const target of alive) target.signal('SIGTERM');
  await waitGone(alive, options.graceMs ?? CliDefaults.stopGraceMs, pollMs, clock);
  const stubborn = alive.filter((t) => t.alive());
  for (const target of stubborn) {
    options.onKill?.(target);
    target.signal('SIGKILL');
  }
  await waitGone(stubborn, options.killWaitMs ?? CliDefaults.killWaitMs, pollMs, clock);
  return alive.filter((t) => t.alive());
}
