/**
 * The answer a task holds (the outcome of the read-only `explain` workflow), as the run page
 * shows it: the text whole, and whether a script rather than a model gave it. The orchestrator
 * opens a scripted answer with a label; the page shows that as a badge beside the text.
 */
import type { Task } from '../api/types';

/** What opens an answer a script gave (the orchestrator's `SCRIPTED_ANSWER_LABEL`). */
export const SCRIPTED_ANSWER_LABEL = "[scripted reply, not a model's answer]";

/** A task's answer, read for display. */
export interface TaskAnswer {
  /** A script gave it (a demo or a test), not a model. */
  scripted: boolean;
  /** The answer without the scripted label, line breaks kept. */
  text: string;
}

/** The task's answer; undefined when it has none (every task but an answered question). */
export function answerOf(task: Pick<Task, 'answer'> | undefined): TaskAnswer | undefined {
  // `?? ''`: a gateway older than the field sends none.
  const answer = task?.answer ?? '';
  if (answer.trim() === '') return undefined;
  if (!answer.startsWith(SCRIPTED_ANSWER_LABEL)) return { scripted: false, text: answer };
  return { scripted: true, text: answer.slice(SCRIPTED_ANSWER_LABEL.length).replace(/^ /, '') };
}
