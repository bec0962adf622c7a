/**
 * Declares the concerns of planned subtasks (`domain/subtask-concerns.ts`) on the task's
 * repository: asks the repository which of their paths are directories (those lock as `dir:`),
 * then derives each subtask's lock-manager names. Used when a plan is stored and when a re-plan
 * adds subtasks.
 */
import path from 'node:path';
import type { PlannedSubtask } from '../domain/plan.js';
import type { RepoProbe } from '../domain/repo-probe.js';
import { subtaskConcerns } from '../domain/subtask-concerns.js';
import type { NewSubtask } from '../store/task-store.js';

/**
 * Which of `paths` (repository-relative) are directories of the repository at `repoPath`. A path
 * that does not exist yet is not one (a new file), unless written with a trailing `/`.
 */
export async function directoriesAmong(repoPath: string, paths: readonly string[], probe: Pick<RepoProbe, 'kind'>): Promise<Set<string>> {
  const bare = [...new Set(paths.map((p) => p.replace(/\/+$/, '')).filter((p) => p !== ''))];
  const kinds = await Promise.all(bare.map(async (p) => [p, await probe.kind(path.join(repoPath, p))] as const));
  return new Set(kinds.filter(([, kind]) => kind === 'directory').map(([p]) => p));
}

/** The planned subtasks with their concerns, ready to store. */
export async function declareConcerns(
  repoPath: string,
  planned: readonly PlannedSubtask[],
  probe: Pick<RepoProbe, 'kind'>,
): Promise<NewSubtask[]> {
  const dirs = await directoriesAmong(repoPath, planned.flatMap((s) => s.files), probe);
  return planned.map((s) => ({ ...s, concerns: subtaskConcerns(repoPath, s.files, s.resources, (p) => dirs.has(p)) }));
}
