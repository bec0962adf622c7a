/**
 * The record that a work item's commit landed on its task branch, kept as a blob under
 * `refs/maestro/merged/<task>/<work>` and written in the same ref transaction that moved the
 * branch: if the executor dies after the merge but before the outcome is stored, the redelivered
 * work finds this record and reports the commit, instead of redoing the work on a branch that
 * already has it.
 */
import { z } from 'zod';

/** Where a work item's commit landed. */
export const MergedRecordSchema = z.object({
  /** The task branch. */
  branch: z.string().min(1),
  /** The branch tip after the merge: the subtask's commit, or the merge commit made in its worktree. */
  sha: z.string().regex(/^[0-9a-f]{40,64}$/),
  /** The branch tip before the merge; `previous..sha` is what the subtask brought in. */
  previous: z.string().regex(/^[0-9a-f]{40,64}$/),
});
/** A parsed {@link MergedRecordSchema}. */
export type MergedRecord = z.infer<typeof MergedRecordSchema>;

/** The blob content of a record. */
export function formatMergedRecord(record: MergedRecord): string {
  return `${JSON.stringify(MergedRecordSchema.parse(record))}\n`;
}

/** The record in a blob's content, or undefined when it is not one (never trusted blindly). */
export function parseMergedRecord(content: string): MergedRecord | undefined {
  try {
    const parsed = MergedRecordSchema.safeParse(JSON.parse(content));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
