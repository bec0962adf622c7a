/**
 * The result of a work item whose commit an earlier delivery already merged, but whose outcome
 * was never stored (the executor died in between): read from the record the merge left in the
 * repository (`refs/maestro/merged/…`), so the work is reported, not redone.
 */
import type { SubtaskResult, SubtaskWork } from '@maestro/contracts';
import type { Logger } from '@maestro/runtime';
import { workIdentity, type ResultOrigin } from '../domain/subtask-result.js';
import { MaestroRefs } from '../domain/worktree-layout.js';
import { filesBetween } from '../store/worktree-state.js';
import { readMergedRecordOf } from './merge-queue.js';

/** The result of work an earlier delivery merged, or undefined when there is no merge record. */
export async function mergedEarlier(work: SubtaskWork, origin: ResultOrigin, log: Logger): Promise<SubtaskResult | undefined> {
  const record = await readMergedRecordOf(work.repoPath, MaestroRefs.merged(work.taskId, work.workId));
  if (record === undefined) return undefined;
  log.info('work already merged by an earlier delivery; reporting its commit', { branch: record.branch, sha: record.sha });
  const filesChanged = await filesBetween(work.repoPath, record.previous, record.sha);
  return {
    ...workIdentity(work),
    ok: true,
    summary: `merged into ${record.branch} at ${record.sha} by an earlier delivery of this work item (its outcome was not stored); not redone`,
    filesChanged,
    commitSha: record.sha,
    merged: { branch: record.branch, sha: record.sha },
    executorId: origin.executorId,
    steps: 0,
    finishedAt: origin.finishedAt,
  };
}

