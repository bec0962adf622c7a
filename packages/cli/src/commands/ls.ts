/**
 * `maestro ls`: the tasks, newest first, with status, age, cost so far and goal
 * (`GET /v1/tasks?status=&q=&limit=`).
 */
import { ExitCodes, UsageError, flag, positiveIntOption, stringOption, type CommandSpec } from '../args.js';
import { formatAge, formatTable, formatUsd, oneLine } from '../format.js';
import type { TaskView } from '../run-view.js';
import { gatewayFor, gatewayHelp, gatewayOption, runCommand, say, type CommandContext } from './context.js';

/** Task statuses `--status` accepts (the gateway's). */
export const TaskStatuses = ['pending', 'running', 'succeeded', 'failed', 'cancelled'] as const;

const usage = `usage: maestro ls [--status S] [--search TEXT] [--limit N] [--json] [--gateway URL]

  Lists tasks, newest first: id, status, age, cost so far, goal.

  --status S      only tasks in status S (${TaskStatuses.join(', ')})
  --search TEXT   only tasks whose goal contains TEXT (case-insensitive)
  --limit N       at most N tasks (1-500, default 20)
  --json          the gateway's JSON ({ tasks, nextPageToken })
${gatewayHelp}`;

/** The argument spec of `maestro ls`. */
export const lsSpec: CommandSpec = {
  name: 'ls',
  usage,
  options: { status: { type: 'string' }, search: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' }, ...gatewayOption },
  positionals: [],
};

/** A task of the list, with its cost so far (null when the router could not say). */
type ListedTask = TaskView & { usage?: { usd?: number; tokens?: number; unpriced?: boolean } | null };

/** The query string of `GET /v1/tasks` the arguments make; `--search` and `--status` only when given. */
export function toListQuery(status: string | undefined, search: string | undefined, limit: number): string {
  const query = new URLSearchParams({ limit: String(limit) });
  if (status !== undefined) query.set('status', status);
  if (search !== undefined) query.set('q', search);
  return query.toString();
}

/** Runs `maestro ls`. */
export function runLs(argv: readonly string[], ctx: CommandContext): Promise<number> {
  return runCommand(lsSpec, argv, ctx, async (args) => {
    const status = stringOption(args, 'status');
    if (status !== undefined && !(TaskStatuses as readonly string[]).includes(status)) {
      throw new UsageError(`--status: expected one of ${TaskStatuses.join(', ')}, got "${status}"`);
    }
    const search = stringOption(args, 'search');
    if (search !== undefined && search.trim() === '') throw new UsageError('--search: must not be empty');
    const limit = positiveIntOption(args, 'limit', 500) ?? 20;
    const body = await gatewayFor(args, ctx).get<{ tasks: ListedTask[] }>(`/v1/tasks?${toListQuery(status, search, limit)}`);
    if (flag(args, 'json')) {
      say(ctx, JSON.stringify(body));
      return ExitCodes.ok;
    }
    if (body.tasks.length === 0) {
      say(ctx, 'no tasks');
      return ExitCodes.ok;
    }
    const now = Date.now();
    const rows = body.tasks.map((t) => {
      const usage = t.usage as { usd?: number; unpriced?: boolean } | null | undefined;
      const cost = usage && typeof usage.usd === 'number' ? `${formatUsd(usage.usd)}${usage.unpriced ? '+' : ''}` : '-';
      return [t.id, t.status, formatAge(t.createdAt, now), cost, oneLine(t.goal, 70)];
    });
    say(ctx, formatTable(['TASK', 'STATUS', 'CREATED', 'COST', 'GOAL'], rows));
    return ExitCodes.ok;
  });
}
