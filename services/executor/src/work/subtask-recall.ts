/**
 * The recall before a subtask's agent starts: what memory knows about the work (preferences,
 * project context, reflexes) for the agent's prompt, from the project's memories and those of the
 * scopes the work item names (its task's `user:<id>` / `team:<id>`). The loop puts the best of
 * them in its system prompt within its memory token budget, pins the preferences among those,
 * and reports a `recall` step listing exactly what went in. The recalled preferences are deliberately not
 * passed as the loop's `preferences` too: those go into the prompt outside the budget and
 * outside the `recall` step, so a preference would be there twice and could be in the prompt
 * without the step saying so. Memory is a nicety: unreachable, slow or refusing, it costs the
 * subtask its notes (a warn line and a failed `memory.recall` step say so), never the subtask.
 */
import { Tenants, type RecalledMemory, type SubtaskWork } from '@maestro/contracts';
import { CALL_ABORTED, toMaestroError, UserError, type Logger } from '@maestro/runtime';
import type { MemoryRecall, MemoryRecallQuery } from '../domain/ports.js';
import { toRecallQuery, toRecallScopes } from '../domain/recall-query.js';
import { truncate } from '../domain/subtask-result.js';
import type { StepReporter } from './step-reporter.js';

/** How this executor recalls; without it (no memory address) subtasks get no memories. */
export interface SubtaskRecallSettings {
  memory: MemoryRecall;
  /** Memories asked for per subtask. */
  limit: number;
  /** How long the recall may take. */
  deadlineMs: number;
}

/** The step tool name of a recall that failed. */
export const RECALL_STEP_TOOL = 'memory.recall';

/**
 * Recalls for `work`, best first; never throws. No memory configured, a blank query or project,
 * the attempt stopped meanwhile: no memories, quietly. Anything else that goes wrong: no
 * memories, a failed step, and a warn line; an error line when memory refused the request
 * (INVALID_ARGUMENT: the executor sent something memory cannot take, a bug to fix here).
 */
export async function recallForSubtask(
  settings: SubtaskRecallSettings | undefined,
  work: SubtaskWork,
  context: { signal: AbortSignal; steps: StepReporter; log: Logger },
): Promise<RecalledMemory[]> {
  if (settings === undefined) return [];
  const { signal, steps, log } = context;
  const project = work.project.trim();
  const query = toRecallQuery(work);
  if (project === '' || query === '') {
    log.debug('no recall: the subtask names no project or says nothing to recall by', { project: work.project });
    return [];
  }
  // The project's memories, and those of the users and teams the task was submitted for.
  const { scopes, dropped } = toRecallScopes(work.memoryScopes);
  if (dropped.length > 0) log.warn('memory scopes left out of the recall: not user or team scopes', { dropped, scopes });
  try {
    const request: MemoryRecallQuery = { project, query, limit: settings.limit, tenant: work.tenant ?? Tenants.default, scopes };
    const answer = await settings.memory.recall(request, { deadlineMs: settings.deadlineMs, signal });
    // A warning says recall was degraded (memory's embedder down: keyword search only).
    log.info('memories recalled', { recalled: answer.memories.length, ids: answer.memories.map((m) => m.id), scopes, ...(answer.warning !== undefined ? { warning: answer.warning } : {}) });
    return answer.memories;
  } catch (err) {
    const error = toMaestroError(err);
    // The attempt is stopping (shutdown, the task's end, a lost lease): it will say why itself.
    if (signal.aborted || error.code === CALL_ABORTED) return [];
    const fields = { err: error, code: error.code, deadlineMs: settings.deadlineMs };
    if (error instanceof UserError) log.error('memory refused the recall request; the subtask goes on without memories', fields);
    else log.warn('memory recall failed; the subtask goes on without memories', fields);
    await steps.report({
      kind: 'tool',
      tool: RECALL_STEP_TOOL,
      summary: truncate(`memory recall failed (${error.code}: ${error.message}); the agent works without recalled memories`, 300),
      ok: false,
    });
    return [];
  }
}
