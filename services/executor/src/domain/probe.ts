/**
 * Probe work: a canary work item (`kind: 'probe'`) that travels the whole executor path
 * (consumer, idempotency check, result store, result publish, ack) but does no work, so the
 * queue can be watched and measured without a model or a repository. Its result's summary
 * carries when the probe was picked up, in a fixed, parseable form.
 */
import type { SubtaskResult, SubtaskWork } from '@maestro/contracts';
import type { ResultOrigin } from './subtask-result.js';

/** When a probe's work began on the executor (epoch ms, fractional). */
export interface ProbeTiming {
  startedAt: number;
}

/** True when a work item is a probe rather than a coding subtask. */
export function isProbe(work: Pick<SubtaskWork, 'kind'>): boolean {
  return work.kind === 'probe';
}

/**
 * The ok result of a probe. The summary reads
 * `probe: picked up 0.412 ms after probeSentAt; worked 0 ms; startedAt=1718000000000.123`
 * (the first clause only when the work carried `probeSentAt`), so a canary or a benchmark can
 * read the pick-up latency from the result alone.
 */
export function toProbeResult(work: SubtaskWork, timing: ProbeTiming, origin: ResultOrigin): SubtaskResult {
  const parts: string[] = [];
  if (work.probeSentAt !== undefined) parts.push(`picked up ${round3(timing.startedAt - work.probeSentAt)} ms after probeSentAt`);
  parts.push(`worked ${work.probeWorkMs ?? 0} ms`);
  parts.push(`startedAt=${round3(timing.startedAt)}`);
  return {
    workId: work.workId,
    taskId: work.taskId,
    runId: work.runId,
    subtaskId: work.subtaskId,
    attempt: work.attempt,
    ok: true,
    summary: `probe: ${parts.join('; ')}`,
    filesChanged: [],
    executorId: origin.executorId,
    steps: 0,
    finishedAt: origin.finishedAt,
  };
}

/** What a probe result's summary says, or undefined when the summary is not a probe's. */
export function parseProbeSummary(summary: string): { startedAt: number; pickupMs?: number } | undefined {
  if (!summary.startsWith('probe: ')) return undefined;
  const started = /startedAt=(\d+(?:\.\d+)?)/.exec(summary);
  if (started?.[1] === undefined) return undefined;
  const pickup = /picked up (-?\d+(?:\.\d+)?) ms/.exec(summary);
  return {
    startedAt: Number(started[1]),
    ...(pickup?.[1] !== undefined ? { pickupMs: Number(pickup[1]) } : {}),
  };
}

function round3(n: number): string {
  return n.toFixed(3);
}
