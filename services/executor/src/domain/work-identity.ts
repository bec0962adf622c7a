/**
 * The identity of a work item (which task, run, subtask and attempt it belongs to), recovered
 * from whatever a dead-lettered message still holds, so a failed result can be published for
 * work whose payload was too broken to run.
 */
import { SubtaskWorkSchema, type SubtaskWork } from '@maestro/contracts';

/** The fields of a `SubtaskWork` a `SubtaskResult` must repeat. */
export type WorkIdentity = Pick<SubtaskWork, 'workId' | 'taskId' | 'runId' | 'subtaskId' | 'attempt'>;

const WorkIdentitySchema = SubtaskWorkSchema.pick({ workId: true, taskId: true, runId: true, subtaskId: true, attempt: true });

/**
 * The work identity in a parsed payload, a JSON text or its bytes; undefined when the ids are
 * missing or malformed (then nobody can be told, and the dead-letter stream is the record).
 */
export function extractWorkIdentity(payloadOrRaw: unknown): WorkIdentity | undefined {
  let candidate: unknown = payloadOrRaw;
  if (candidate instanceof Uint8Array) candidate = Buffer.from(candidate).toString('utf8');
  if (typeof candidate === 'string') {
    try {
      candidate = JSON.parse(candidate);
    } catch {
      return undefined;
    }
  }
  const parsed = WorkIdentitySchema.safeParse(candidate);
  if (!parsed.success) return undefined;
  const { workId, taskId, runId, subtaskId, attempt } = parsed.data;
  return { workId, taskId, runId, subtaskId, attempt };
}
