/**
 * The fault suite's bookkeeping, after Jepsen: every operation (one task submission) is
 * *invoked*, then completes *ok* (the gateway accepted it), *failed* (a definite refusal: 4xx)
 * or *unknown* (a 5xx, a timeout or a reset connection while a fault was on: it may or may not
 * have happened). After the run the final state of every task is checked against what the
 * client was told, and each operation is classified: lost (accepted yet never reached a terminal
 * state, or gone from the task list), duplicated (more than one task for one submission, or a
 * task that ended more than once with different outcomes), double effects (a subtask whose commit
 * landed more than once), and phantoms (a definite refusal that happened anyway). Pure: no I/O.
 */

/** How the client saw a submission end. */
export const OpOutcomes = { ok: 'ok', failed: 'failed', unknown: 'unknown' } as const;
export type OpOutcome = (typeof OpOutcomes)[keyof typeof OpOutcomes];

/** One task as found after the run. */
export interface ObservedTask {
  id: string;
  /** Its status as the API reports it at the end (`succeeded`, `failed`, `cancelled`, or not final). */
  status: string;
  failureReason: string | null;
  /** The final statuses its `task.updated` events carried, in order (repeats allowed). */
  terminalEvents: readonly string[];
  /** Commits per subtask on the task branch (subtask id → count), for the subtasks its plan had. */
  commitsBySubtask: Readonly<Record<string, number>>;
  /** True when its failure came from a dead-lettered work item. */
  deadLettered?: boolean;
}

/** One submission and what was found for it. */
export interface OperationRecord {
  /** The operation's own id (also its idempotency key and the marker in its goal). */
  id: string;
  outcome: OpOutcome;
  /** Why it failed or is unknown (the status or error), for the report. */
  detail?: string;
  /** Every task whose goal carries the operation's marker. */
  tasks: readonly ObservedTask[];
  /** Set when the task list could not be read for it (the gateway or orchestrator down): why. */
  unobservable?: string;
}

/** The terminal states the checker accepts. */
export const TerminalKinds = { done: 'done', failed: 'failed', deadLettered: 'dead-lettered', cancelled: 'cancelled' } as const;
export type TerminalKind = (typeof TerminalKinds)[keyof typeof TerminalKinds];

/** What the checker decided for one operation. */
export interface OperationVerdict {
  id: string;
  outcome: OpOutcome;
  /** The task's terminal state, when it has exactly one task that ended properly. */
  terminal: TerminalKind | null;
  lost: boolean;
  duplicated: boolean;
  doubleEffects: number;
  phantom: boolean;
  /** One line per anomaly, empty when the operation is fine. */
  problems: string[];
}

/** One row of the table. */
export interface ScenarioSummary {
  scenario: string;
  invoked: number;
  ok: number;
  failed: number;
  unknown: number;
  lost: number;
  duplicated: number;
  doubleEffects: number;
  phantoms: number;
  terminal: Record<TerminalKind, number>;
  problems: string[];
}

const FinalStatuses = new Set(['succeeded', 'failed', 'cancelled']);

/** The terminal kind of a task that ended properly, or the problem with how it ended. */
function terminalOf(task: ObservedTask): { kind: TerminalKind } | { problem: string } {
  if (!FinalStatuses.has(task.status)) return { problem: `task ${task.id} never reached a terminal state (still ${task.status})` };
  const reason = task.failureReason?.trim() ?? '';
  if (task.status === 'succeeded') return { kind: TerminalKinds.done };
  if (reason === '') return { problem: `task ${task.id} ended ${task.status} without a reason` };
  if (task.status === 'cancelled') return { kind: TerminalKinds.cancelled };
  return { kind: task.deadLettered === true ? TerminalKinds.deadLettered : TerminalKinds.failed };
}

/** Classifies one operation against the tasks found for it. */
export function classifyOperation(op: OperationRecord): OperationVerdict {
  const verdict: OperationVerdict = { id: op.id, outcome: op.outcome, terminal: null, lost: false, duplicated: false, doubleEffects: 0, phantom: false, problems: [] };
  const problem = (line: string): void => {
    verdict.problems.push(`${op.id}: ${line}`);
  };
  if (op.unobservable !== undefined) {
    // Nobody can say what became of it: for the client, an accepted task that vanished.
    verdict.lost = true;
    problem(`its tasks could not be listed after the run (${op.unobservable})`);
    return verdict;
  }
  if (op.tasks.length === 0) {
    // Only an accepted submission must exist; an unknown or refused one may never have happened.
    if (op.outcome === OpOutcomes.ok) {
      verdict.lost = true;
      problem('accepted, but no task carries its marker');
    }
    return verdict;
  }
  if (op.outcome === OpOutcomes.failed) {
    verdict.phantom = true;
    problem(`refused (${op.detail ?? 'no detail'}), yet ${op.tasks.length} task(s) exist for it`);
  }
  if (op.tasks.length > 1) {
    verdict.duplicated = true;
    problem(`${op.tasks.length} tasks for one submission: ${op.tasks.map((t) => t.id).join(', ')}`);
  }
  for (const task of op.tasks) {
    const end = terminalOf(task);
    if ('problem' in end) {
      verdict.lost = true;
      problem(end.problem);
    } else if (op.tasks.length === 1) {
      verdict.terminal = end.kind;
    }
    const distinct = [...new Set(task.terminalEvents)];
    if (distinct.length > 1) {
      verdict.duplicated = true;
      problem(`task ${task.id} ended more than once: ${distinct.join(' then ')}`);
    }
    for (const [subtask, commits] of Object.entries(task.commitsBySubtask)) {
      if (commits > 1) {
        verdict.doubleEffects += commits - 1;
        problem(`subtask ${subtask} of task ${task.id} committed ${commits} times`);
      } else if (commits === 0 && task.status === 'succeeded') {
        verdict.lost = true;
        problem(`task ${task.id} succeeded without subtask ${subtask}'s commit`);
      }
    }
  }
  return verdict;
}

/** Classifies every operation of a scenario and sums them into its table row. */
export function summarize(scenario: string, ops: readonly OperationRecord[]): ScenarioSummary {
  const row: ScenarioSummary = {
    scenario,
    invoked: ops.length,
    ok: 0,
    failed: 0,
    unknown: 0,
    lost: 0,
    duplicated: 0,
    doubleEffects: 0,
    phantoms: 0,
    terminal: { done: 0, failed: 0, 'dead-lettered': 0, cancelled: 0 },
    problems: [],
  };
  for (const op of ops) {
    const v = classifyOperation(op);
    row[v.outcome]++;
    if (v.lost) row.lost++;
    if (v.duplicated) row.duplicated++;
    if (v.phantom) row.phantoms++;
    row.doubleEffects += v.doubleEffects;
    if (v.terminal !== null) row.terminal[v.terminal]++;
    row.problems.push(...v.problems);
  }
  return row;
}

/** True when the row shows nothing lost, duplicated, done twice or phantom. */
export function isClean(row: ScenarioSummary): boolean {
  return row.lost === 0 && row.duplicated === 0 && row.doubleEffects === 0 && row.phantoms === 0;
}

const Columns = ['scenario', 'invoked', 'ok', 'failed', 'unknown', 'lost', 'duplicated', 'double-effects', 'phantoms', 'terminal (done/failed/dlq/cancelled)'] as const;

function cells(row: ScenarioSummary): string[] {
  const t = row.terminal;
  return [
    row.scenario,
    String(row.invoked),
    String(row.ok),
    String(row.failed),
    String(row.unknown),
    String(row.lost),
    String(row.duplicated),
    String(row.doubleEffects),
    String(row.phantoms),
    `${t.done}/${t.failed}/${t['dead-lettered']}/${t.cancelled}`,
  ];
}

/** The rows as a fixed-width text table, followed by each row's problems and extra notes. */
export function formatTable(rows: readonly ScenarioSummary[], notes: readonly string[] = []): string {
  const body = rows.map(cells);
  const widths = Columns.map((c, i) => Math.max(c.length, ...body.map((r) => r[i]!.length)));
  const line = (values: readonly string[]): string => `| ${values.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  const out = [line(Columns), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)];
  for (const row of rows) for (const p of row.problems) out.push(`  ✗ ${row.scenario}: ${p}`);
  for (const note of notes) out.push(`  · ${note}`);
  return out.join('\n');
}
