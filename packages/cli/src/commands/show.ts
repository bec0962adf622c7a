/**
 * `maestro show <task>`: one task — goal, status, repository, answer, subtasks, delivery and usage
 * (`GET /v1/tasks/:id`).
 */
import { ExitCodes, flag, type CommandSpec } from '../args.js';
import { formatTable, formatTokens, formatUsd, oneLine, type UsageTotalsJson } from '../format.js';
import { segment } from '../gateway-client.js';
import { FinalTaskStatuses, describeAnswer, type TaskView } from '../run-view.js';
import { gatewayFor, gatewayHelp, gatewayOption, runCommand, say, type CommandContext } from './context.js';

const usage = `usage: maestro show <task> [--json] [--gateway URL]

  Shows a task: goal, status, repository, the answer (of a question about the code, whole),
  subtasks, delivery and usage (tokens and cost, per model).

  --json   the gateway's JSON for the task
${gatewayHelp}`;

/** The argument spec of `maestro show`. */
export const showSpec: CommandSpec = { name: 'show', usage, options: { json: { type: 'boolean' }, ...gatewayOption }, positionals: ['task'] };

type ShownTask = TaskView & {
  usage?: { total?: UsageTotalsJson; byModel?: Array<UsageTotalsJson & { model?: string }> } | null;
  budget?: { usd?: number; tokens?: number };
  intent?: { intent?: string } | null;
};

function describeTotals(t: UsageTotalsJson): string {
  return `${t.calls ?? 0} calls, ${formatTokens(t.inputTokens ?? 0)} in / ${formatTokens(t.outputTokens ?? 0)} out tokens, ${formatUsd(t.costUsd ?? 0)}${t.scriptedCalls ? ` (${t.scriptedCalls} scripted, free)` : ''}${t.unpricedCalls ? ` (+${t.unpricedCalls} unpriced)` : ''}`;
}

/** The text `maestro show` prints for a task. */
export function describeTask(task: ShownTask): string[] {
  const lines = [
    `task     ${task.id}`,
    `goal     ${task.goal}`,
    `status   ${task.status}${task.failureReason ? ` — ${task.failureReason}` : ''}`,
    `repo     ${task.repoPath}`,
    `run      ${task.runId}${task.workflow ? ` (workflow ${task.workflow})` : ''}`,
  ];
  if (task.intent?.intent) lines.push(`intent   ${task.intent.intent}`);
  if (task.budget && (task.budget.usd || task.budget.tokens)) {
    lines.push(`budget   ${task.budget.usd ? formatUsd(task.budget.usd) : 'no $ limit'}, ${task.budget.tokens ? `${formatTokens(task.budget.tokens)} tokens` : 'no token limit'}`);
  }
  if (task.createdAt) lines.push(`created  ${task.createdAt}`);
  if (task.reviewSummary) lines.push(`review   ${oneLine(task.reviewSummary, 200)}`);
  lines.push(...describeAnswer(task.answer));
  if (task.delivery?.branch) {
    lines.push(`branch   ${task.delivery.branch}${task.delivery.sha ? ` at ${task.delivery.sha.slice(0, 12)}` : ''}${task.delivery.reason ? ` — ${task.delivery.reason}` : ''}`);
  }
  const subtasks = task.subtasks ?? [];
  // A task that ended without subtasks (a question answered, a stopped run) will have none.
  lines.push('', subtasks.length > 0 ? 'subtasks' : FinalTaskStatuses.includes(task.status) ? 'subtasks (none)' : 'subtasks (none yet)');
  if (subtasks.length > 0) {
    const rows = subtasks.map((s) => [s.id, s.status, s.executorId ?? '', (s.commitSha ?? '').slice(0, 10), oneLine(s.failureReason ? `${s.title} — ${s.failureReason}` : s.title, 80)]);
    lines.push(...formatTable(['ID', 'STATUS', 'EXECUTOR', 'COMMIT', 'TITLE'], rows).split('\n').map((l) => `  ${l}`));
  }
  lines.push('');
  if (task.usage?.total) {
    lines.push(`usage    ${describeTotals(task.usage.total)}`);
    for (const m of task.usage.byModel ?? []) lines.push(`  ${m.model ?? '?'}: ${describeTotals(m)}`);
  } else {
    lines.push(`usage    unavailable${task.usageError ? ` (${task.usageError})` : ''}`);
  }
  return lines;
}

/** Runs `maestro show`. */
export function runShow(argv: readonly string[], ctx: CommandContext): Promise<number> {
  return runCommand(showSpec, argv, ctx, async (args) => {
    const task = await gatewayFor(args, ctx).get<ShownTask>(`/v1/tasks/${segment(args.positionals[0]!)}`);
    if (flag(args, 'json')) say(ctx, JSON.stringify(task));
    else describeTask(task).forEach((l) => say(ctx, l));
    return ExitCodes.ok;
  });
}
