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

/** The argument spec of `maestro cancel`. */
export const cancelSpec: CommandSpec = { name: 'cancel', usage, options: { reason: { type: 'string' }, ...gatewayOption }, positionals: ['task'] };

/** Runs `maestro cancel`. */
export function runCancel(argv: readonly string[], ctx: CommandContext): Promise<number> {
  return runCommand(cancelSpec, argv, ctx, async (args) => {
    const reason = stringOption(args, 'reason');
    if (reason !== undefined && reason.trim() === '') throw new UsageError('--reason: must not be empty (leave it out instead)');
    const task = await gatewayFor(args, ctx).post<TaskView>(`/v1/tasks/${segment(args.positionals[0]!)}/cancel`, reason !== undefined ? { reason } : {});
    if (task.status !== 'cancelled') {
      say(ctx, `task ${task.id} had already ended (${task.status}); nothing to cancel`);
      return ExitCodes.ok;
    }
    say(ctx, `task ${task.id} cancelled${task.failureReason ? ` — ${task.failureReason}` : ''}`);
    return ExitCodes.ok;
  });
}
