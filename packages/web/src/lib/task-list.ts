/**
 * The runs page's list: tasks as `GET /v1/tasks` returns them, kept current by the lifecycle
 * events of `/v1/events` (a task's status changes in place; an unknown task means the list must
 * be read again), and filtered by status and by words of the goal the same way the gateway does.
 * The run state column holds only the runs the list shows (plus runs a pending re-read may add),
 * so a page left open does not collect every run the system ever ran.
 */
import type { ListUsage, Task, TaskUsage } from '../api/types';

/** The statuses a task can have, for the filter. */
export const TaskStatuses = ['pending', 'running', 'succeeded', 'failed', 'cancelled'] as const;

/** Event names the runs page listens to on `/v1/events`. */
export const LifecycleEvents = ['task.updated', 'run.started', 'run.transitioned', 'run.finished'] as const;

/**
 * What the page should do after an event: nothing, re-render, re-read the list soon (`reload`:
 * its membership or a status changed), or re-render and re-read it when convenient (`costs`: a
 * listed run moved to its next state, so its cost so far has likely grown).
 */
export type ListEffect = 'none' | 'changed' | 'reload' | 'costs';

/** The filter the page shows. */
export interface TaskFilter {
  status: string;
  q: string;
}

/** Whether a task passes the filter (`q`: goal contains it, case-insensitive, as the gateway's `q`). */
export function matchesFilter(task: Pick<Task, 'status' | 'goal'>, filter: TaskFilter): boolean {
  if (filter.status !== '' && task.status !== filter.status) return false;
  const q = filter.q.trim().toLowerCase();
  return q === '' || task.goal.toLowerCase().includes(q);
}

/**
 * Applies one lifecycle event to the list in place. `task.updated` sets the task's status;
 * run events update the run state column of the task whose `runId` they carry (`runStates`).
 * Anything about a task not in the list asks for a reload (a new task, or one the filter may now take).
 * The state of a run the list does not show is kept only from its `run.started` until the re-read
 * that started asks for ({@link startRunStatePrune}); other runs' events are ignored.
 */
export function applyLifecycleEvent(
  tasks: Task[],
  runStates: Map<string, string>,
  name: string,
  data: Record<string, unknown>,
): ListEffect {
  if (name === 'task.updated') {
    const taskId = typeof data['taskId'] === 'string' ? data['taskId'] : '';
    const status = typeof data['status'] === 'string' ? data['status'] : '';
    const task = tasks.find((t) => t.id === taskId);
    if (!task) return 'reload';
    if (status !== '' && status !== task.status) {
      task.status = status;
      if (typeof data['at'] === 'string') task.updatedAt = data['at'];
      if (typeof data['runId'] === 'string' && data['runId'] !== '') task.runId = data['runId'];
      return 'reload';
    }
    return 'none';
  }
  if (name.startsWith('run.')) {
    const runId = typeof data['runId'] === 'string' ? data['runId'] : '';
    const state = typeof data['state'] === 'string' ? data['state'] : '';
    if (runId === '' || state === '') return 'none';
    if (tasks.some((t) => t.runId === runId)) {
      runStates.set(runId, state);
      return name === 'run.started' ? 'changed' : 'costs';
    }
    // A new run may be a task's the list should show: keep its state for the re-read to decide.
    if (name === 'run.started' || runStates.has(runId)) runStates.set(runId, state);
    return name === 'run.started' ? 'reload' : 'none';
  }
  return 'none';
}

/**
 * Call when a re-read of the list begins; call the returned function with the list it read. It
 * drops the states of runs that list does not show, except runs first heard of while the read was
 * in flight (the answer may predate them; the re-read their `run.started` asked for decides).
 */
export function startRunStatePrune(runStates: Map<string, string>): (shown: ReadonlyArray<Pick<Task, 'runId'>>) => void {
  const heardBefore = new Set(runStates.keys());
  return (shown) => {
    const listed = new Set(shown.map((t) => t.runId));
    for (const runId of heardBefore) if (!listed.has(runId)) runStates.delete(runId);
  };
}

/** The cost so far a list entry shows: the list's short usage, or the full usage's total. */
export function costOf(task: Pick<Task, 'usage'>): { usd: number | null; tokens: number | null; unpriced: boolean } {
  const usage = task.usage;
  if (usage === null || usage === undefined) return { usd: null, tokens: null, unpriced: false };
  if ('usd' in usage) {
    const short = usage as ListUsage;
    return { usd: short.usd, tokens: short.tokens, unpriced: short.unpriced };
  }
  const total = (usage as TaskUsage).total;
  return { usd: total.costUsd, tokens: total.inputTokens + total.outputTokens, unpriced: total.unpricedCalls > 0 };
}
