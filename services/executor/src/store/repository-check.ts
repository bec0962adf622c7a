/**
 * Whether a subtask's `repoPath` can be worked in on this executor: an absolute path to a
 * directory that exists here (the repositories are a shared volume every replica mounts).
 */
import { stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';

/** Why a subtask's repository cannot be worked in, or undefined when it can. */
export async function repositoryProblem(repoPath: string): Promise<string | undefined> {
  if (!isAbsolute(repoPath)) return `repoPath must be an absolute path, got "${repoPath}"`;
  try {
    const info = await stat(repoPath);
    if (!info.isDirectory()) return `repoPath ${repoPath} is not a directory`;
  } catch {
    return `repoPath ${repoPath} does not exist on this executor (is the repository volume mounted?)`;
  }
  return undefined;
}
