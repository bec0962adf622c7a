/**
 * The write guard the agent sees in a worktree: it renames the concerns the tools ask for
 * (`file:<worktree>/…`) onto the task's repository (`file:<repo>/…`) before the subtask's
 * guard locks them, and drops the worktree's private git index (see repository-concerns.ts).
 */
import type { WriteGuard } from '@maestro/agent';
import { toRepositoryConcerns, type ConcernRoots } from '../domain/repository-concerns.js';

/** A `WriteGuard` for an agent working in a worktree, over the subtask's guard. */
export class WorktreeWriteGuard implements WriteGuard {
  constructor(
    private readonly inner: WriteGuard,
    private readonly roots: ConcernRoots,
  ) {}

  async acquire(concerns: string[]): Promise<void> {
    const mapped = toRepositoryConcerns(concerns, this.roots);
    if (mapped.length > 0) await this.inner.acquire(mapped);
  }
}
