/**
 * `maestro cancel <task> [--reason TEXT]`: cancels a task (`POST /v1/tasks/:id/cancel`).
 */
import { ExitCodes, UsageError, stringOption, type CommandSpec } from '../args.js';
import { segment } from '../gateway-client.js';
import type { TaskView } from '../run-view.js';
import { gatewayFor, gatewayHelp, gatewayOption, runCommand, say, type CommandContext } from './context.js';

const usage = `usage: maestro cancel <task> [--reason TEXT] [--gateway URL]

  Cancels a task: its run stops, its agents are told to stop, its locks are freed.

  --reason TEXT   why (kept with the task)
${gatewayHelp}`;

/** Task statuses after which there is nothing to cancel. */
const FINAL_STATUSES: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled']);

/** The argument spec of `maestro cancel`. */
export const cancelSpec: CommandSpec = { name: 'cancel', usage, options: { reason: { type: 'string' }, ...gatewayOption }, positionals: ['task'] };

/** Runs `maestro cancel`. */
export function runCancel(argv: readonly string[], ctx: CommandContext): Promise<number> {
  return runCommand(cancelSpec, argv, ctx, async (args) => {
    const reason = stringOption(args, 'reason');
    if (reason !== undefined && reason.trim() === '') throw new UsageError('--reason: must not be empty (leave it out instead)');
    const gateway = gatewayFor(args, ctx);
    const path = `/v1/tasks/${segment(args.positionals[0]!)}`;
    // Asked first, so a task that had already ended (cancelled included) is not reported as cancelled now.
    const before = await gateway.get<TaskView>(path);
    if (FINAL_STATUSES.has(before.status)) {
      say(ctx, `task ${before.id} had already ended (${before.status}); nothing to cancel`);
      return ExitCodes.ok;
    }
    const task = await gateway.post<TaskView>(`${path}/cancel`, reason !== undefined ? { reason } : {});
    if (task.status !== 'cancelled') {
      say(ctx, `task ${task.id} had already ended (${task.status}); nothing to cancel`);
      return ExitCodes.ok;
    }
    say(ctx, `task ${task.id} cancelled${task.failureReason ? ` — ${task.failureReason}` : ''}`);
    return ExitCodes.ok;
  });
}
