/**
 * The scheduler of a task's subtasks: which waiting (`pending`) subtasks start now, and which
 * fail without running because something they depend on failed. Pure, so every decision is
 * testable; the callers (`code` activity, result recorder, escalation handler) apply it under
 * the task's lock and publish what it dispatched.
 *
 * A pending subtask starts when
 * 1. every subtask it `dependsOn` succeeded (a dependency a re-plan replaced stands for the
 *    subtasks put in its place), and
 * 2. its concerns conflict with no subtask that is running, nor with one that comes earlier in
 *    plan order and is not final yet.
 * So subtasks on the same file (or a file and a directory holding it, or the same port or named
 * resource) run one after the other in plan order, and disjoint ones run in parallel. A pending
 * subtask whose dependency failed fails at once, with the reason.
 *
 * **Plan order** is the order the plan listed the subtasks in, with two refinements: a re-plan's
 * subtasks take the place of the subtask they replace (not the end of the list), and a subtask
 * always comes after the subtasks it depends on. In that order the earliest waiting subtask is
 * only ever held up by running ones, so the schedule never deadlocks.
 */
import { firstOverlap } from '@maestro/contracts';
import type { SubtaskStatus } from './task.js';

/** What the scheduler reads of a subtask. */
export interface SchedulableSubtask {
  id: string;
  /** The subtask's place in the stored list (plan order; a re-plan's are appended). */
  position: number;
  status: SubtaskStatus;
  concerns: readonly string[];
  dependsOn: readonly string[];
  /** The subtask a re-plan put this one in place of; null for the plan's own. */
  replaces: string | null;
}

/** A pending subtask that fails without running, and why. */
export interface ScheduledFailure {
  subtaskId: string;
  reason: string;
}

/** A pending subtask that keeps waiting, and for what (for logs and tests). */
export interface ScheduledWait {
  subtaskId: string;
  reason: string;
}

/** What the scheduler decided. */
export interface SubtaskSchedule {
  /** Pending subtasks to start now, in plan order. */
  dispatch: string[];
  /** Pending subtasks failed because a dependency failed. */
  fail: ScheduledFailure[];
  /** Pending subtasks that keep waiting. */
  waiting: ScheduledWait[];
}

type State = 'pending' | 'running' | 'succeeded' | 'failed' | 'replaced';

/**
 * The subtasks in plan order (see the module comment): sorted by the position of the plan
 * subtask each descends from through re-plans, then by position, then topologically so that
 * dependencies come first. A dependency cycle (a plan refuses them) falls back to that sort.
 */
export function planOrder<T extends SchedulableSubtask>(subtasks: readonly T[]): T[] {
  const byId = new Map(subtasks.map((s) => [s.id, s]));
  const anchor = (s: T): number => {
    let current: T | undefined = s;
    const seen = new Set<string>();
    while (current?.replaces != null && byId.has(current.replaces) && !seen.has(current.id)) {
      seen.add(current.id);
      current = byId.get(current.replaces);
    }
    return current?.position ?? s.position;
  };
  const keyed = [...subtasks].sort((a, b) => anchor(a) - anchor(b) || a.position - b.position);
  const deps = new Map(subtasks.map((s) => [s.id, resolveDependencies(s, byId)]));
  const placed = new Set<string>();
  const out: T[] = [];
  while (out.length < keyed.length) {
    const next =
      keyed.find((s) => !placed.has(s.id) && (deps.get(s.id) ?? []).every((d) => placed.has(d) || !byId.has(d))) ??
      keyed.find((s) => !placed.has(s.id));
    if (next === undefined) break;
    placed.add(next.id);
    out.push(next);
  }
  return out;
}

/**
 * The ids a subtask really waits for: its `dependsOn`, with each subtask a re-plan replaced
 * swapped for the subtasks put in its place (again and again, for a re-plan of a re-plan).
 * Unknown ids are kept, so the caller can fail the subtask naming them.
 */
export function resolveDependencies(subtask: Pick<SchedulableSubtask, 'dependsOn'>, byId: ReadonlyMap<string, SchedulableSubtask>): string[] {
  const out = new Set<string>();
  const replacements = (id: string): SchedulableSubtask[] => [...byId.values()].filter((s) => s.replaces === id);
  const visit = (id: string, seen: Set<string>): void => {
    if (seen.has(id)) return;
    seen.add(id);
    const dep = byId.get(id);
    if (dep?.status === 'replaced') {
      for (const r of replacements(id)) visit(r.id, seen);
      return;
    }
    out.add(id);
  };
  for (const id of subtask.dependsOn) visit(id, new Set());
  return [...out];
}

/** Decides which pending subtasks start now and which fail; see the module comment. */
export function scheduleSubtasks(subtasks: readonly SchedulableSubtask[]): SubtaskSchedule {
  const byId = new Map(subtasks.map((s) => [s.id, s]));
  const order = planOrder(subtasks);
  const state = new Map<string, State>(subtasks.map((s) => [s.id, s.status]));
  const schedule: SubtaskSchedule = { dispatch: [], fail: [], waiting: [] };

  order.forEach((subtask, index) => {
    if (state.get(subtask.id) !== 'pending') return;
    const deps = resolveDependencies(subtask, byId);
    const unknown = deps.find((d) => !byId.has(d));
    const failed = deps.find((d) => state.get(d) === 'failed');
    if (unknown !== undefined || failed !== undefined) {
      const reason =
        unknown !== undefined
          ? `not run: it depends on ${unknown}, which the task does not have`
          : `not run: it depends on ${failed}, which failed`;
      state.set(subtask.id, 'failed');
      schedule.fail.push({ subtaskId: subtask.id, reason });
      return;
    }
    const unmet = deps.find((d) => state.get(d) !== 'succeeded');
    if (unmet !== undefined) {
      schedule.waiting.push({ subtaskId: subtask.id, reason: `waits for ${unmet} to succeed` });
      return;
    }
    const blocker = order.find((other, otherIndex) => {
      if (other.id === subtask.id) return false;
      const s = state.get(other.id);
      const holds = s === 'running' || (otherIndex < index && s === 'pending');
      return holds && firstOverlap(subtask.concerns, other.concerns) !== undefined;
    });
    if (blocker !== undefined) {
      const [mine, theirs] = firstOverlap(subtask.concerns, blocker.concerns) ?? ['', ''];
      const how = state.get(blocker.id) === 'running' ? 'running' : 'earlier in plan order';
      schedule.waiting.push({ subtaskId: subtask.id, reason: `waits for ${blocker.id} (${how}): ${mine} conflicts with ${theirs}` });
      return;
    }
    state.set(subtask.id, 'running');
    schedule.dispatch.push(subtask.id);
  });
  return schedule;
}
