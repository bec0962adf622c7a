/**
 * Classifies a submitted goal: its intent (for the routing policy) and the workflow the
 * router's policy picks for that intent. The router answers in well under a millisecond; when
 * it cannot be reached, the same deterministic classifier runs here and the task runs the
 * default workflow, said in the intent's reason and in the log.
 */
import { classifyIntent } from '@maestro/intent';
import { toMaestroError, type Logger } from '@maestro/runtime';
import type { RouterPort } from '../domain/ports.js';
import type { TaskIntent } from '../domain/task.js';

/** The workflow a task runs when neither the caller nor the router's policy names one. */
export const DEFAULT_WORKFLOW = 'coding';

/** The goal's intent and the workflow it picks. */
export interface TaskClassification {
  intent: TaskIntent;
  workflow: string;
}

/** See the module comment. */
export async function classifyTask(
  goal: string,
  router: Pick<RouterPort, 'classifyIntent'>,
  options: { deadlineMs: number; logger: Logger },
): Promise<TaskClassification> {
  try {
    const answer = await router.classifyIntent({ text: goal }, { deadlineMs: options.deadlineMs });
    return { intent: { intent: answer.intent, confidence: answer.confidence, reason: answer.reason }, workflow: answer.workflow || DEFAULT_WORKFLOW };
  } catch (err) {
    const error = toMaestroError(err);
    options.logger.warn('the router could not classify the goal; classified here, default workflow', { code: error.code, message: error.message });
    const local = classifyIntent(goal);
    return {
      intent: { intent: local.intent, confidence: local.confidence, reason: `${local.reason} (classified by Orion: the router was unavailable)` },
      workflow: DEFAULT_WORKFLOW,
    };
  }
}
