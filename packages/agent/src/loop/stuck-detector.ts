/**
 * Stuck detection: one history of (action, observation) pairs — tool calls with their arguments
 * (keys sorted), text edits, unreadable replies, test runs — with timings blanked, read after
 * every pair. The same pair three times in a row, two pairs alternating three times, or "done"
 * twice with the same failing test output ends the run as `stuck`.
 */
import type { ToolCall } from '@maestro/llm';

/** How often the same (action, observation) may come back in a row before the run counts as stuck. */
export const STUCK_REPEATS = 3;
/** How often two (action, observation) pairs may alternate (A, B, A, B, A, B) before the run counts as stuck. */
export const STUCK_ALTERNATIONS = 3;
/**
 * How often the model may say "done" while the tests fail with the same output before the run
 * counts as stuck. Two: the second claim shows the failure fed back after the first changed
 * nothing, and a third attempt would only spend tokens the escalation can use better.
 */
export const STUCK_DONE_REPEATS = 2;

/** A call's identity for stuck detection: name plus arguments with keys sorted, so key order does not hide a repeat. */
export function callKey(call: Pick<ToolCall, 'name' | 'argumentsJson'>): string {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(
        Object.keys(value as Record<string, unknown>)
          .sort()
          .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
      );
    }
    return value;
  };
  try {
    return `${call.name}(${JSON.stringify(canonical(JSON.parse(call.argumentsJson)))})`;
  } catch {
    return `${call.name}(${call.argumentsJson})`;
  }
}

/**
 * Output with timings blanked, so two runs of the same failing test count as the same result
 * (`node --test` prints `duration_ms 41.2`, most runners print `12ms` or `0.53 s`).
 */
export function withoutTimings(output: string): string {
  return output
    .replace(/duration_ms:?\s*[\d.]+/g, 'duration_ms #')
    .replace(/\b\d+(\.\d+)?\s*(ms|s|sec|seconds?)\b/g, '# $2');
}

/** One entry of the action history that stuck detection reads. */
interface HistoryEntry {
  /** Action and observation together; equal keys mean the same thing happened again. */
  key: string;
  /** The action in words, for the verdict's reason (`fs.read({"path":"a"})`). */
  action: string;
}

/**
 * Why the run is stuck, judging by the end of `history`, or undefined: the same (action,
 * observation) three times in a row, or two of them alternating three times (A, B, A, B, A, B).
 * Repeats count only in a row: after context pruning a model must re-read files.
 */
function stuckReason(history: readonly HistoryEntry[]): string | undefined {
  const n = history.length;
  const last = history[n - 1];
  if (last === undefined) return undefined;
  if (n >= STUCK_REPEATS && history.slice(n - STUCK_REPEATS).every((entry) => entry.key === last.key)) {
    return `${last.action} returned the same result ${STUCK_REPEATS} times`;
  }
  const window = STUCK_ALTERNATIONS * 2;
  const other = history[n - 2];
  if (n >= window && other !== undefined && other.key !== last.key) {
    const alternating = history.slice(n - window).every((entry, i) => entry.key === (i % 2 === 0 ? other.key : last.key));
    if (alternating) return `alternated between ${other.action} and ${last.action}, with the same results, ${STUCK_ALTERNATIONS} times`;
  }
  return undefined;
}

/** The run's action history, and the verdicts of stuck detection on it. */
export class StuckDetector {
  private readonly history: HistoryEntry[] = [];
  private readonly failedDone = new Map<string, number>();

  /**
   * Records an (action, observation) pair; returns why the run is stuck, if it now is. `identity`
   * is the action in full when `action` (its description) does not tell two actions apart.
   */
  remember(action: string, observation: string, identity: string = action): string | undefined {
    this.history.push({ key: `${identity}\0${withoutTimings(observation)}`, action });
    return stuckReason(this.history);
  }

  /**
   * Records a "done" the tests refuted with `failure` (the output's tail); returns why the run is
   * stuck when the model declared done {@link STUCK_DONE_REPEATS} times over the same failure,
   * whatever happened in between.
   */
  declaredDoneFailing(failure: string): string | undefined {
    const key = withoutTimings(failure);
    const seen = (this.failedDone.get(key) ?? 0) + 1;
    this.failedDone.set(key, seen);
    return seen >= STUCK_DONE_REPEATS ? `declared done ${STUCK_DONE_REPEATS} times with the same failing test output` : undefined;
  }
}
