/**
 * `maestro logs <task> [--follow]`: the steps the task's agents took (`GET /v1/tasks/:id/steps`,
 * page by page); with `--follow`, the run's live event stream instead (`GET /v1/runs/:id/events`,
 * which replays the recorded steps first), until the run ends or Ctrl-C.
 */
import { ExitCodes, flag, positiveIntOption, stringOption, type CommandSpec } from '../args.js';
import { segment } from '../gateway-client.js';
import { describeRunEvent, type TaskView } from '../run-view.js';
import type { SseEvent } from '../sse-client.js';
import { gatewayFor, gatewayHelp, gatewayOption, runCommand, say, type CommandContext } from './context.js';

const usage = `usage: maestro logs <task> [--follow] [--subtask ID] [--limit N] [--json] [--gateway URL]

  Prints the steps the task's agents took (model turns, tool calls, recalls), oldest first.

  --follow       keep following the run live until it ends (Ctrl-C stops following)
  --subtask ID   only the steps of one subtask
  --limit N      at most N steps (1-100000; default all)
  --json         one JSON object per step (with --follow: per event)
${gatewayHelp}`;

/** The argument spec of `maestro logs`. */
export const logsSpec: CommandSpec = {
  name: 'logs',
  usage,
  options: { follow: { type: 'boolean', short: 'f' }, subtask: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' }, ...gatewayOption },
  positionals: ['task'],
};

/** A recorded step as the gateway shows it. */
interface StepJson {
  subtaskId: string;
  executorId: string;
  step: number;
  kind: string;
  tool?: string;
  summary: string;
  ok: boolean;
  at: string | null;
}

/** The line of a recorded step (the same as a live `work.step` event's). */
export function describeStep(step: StepJson): string {
  return `${(step.at ?? '').slice(11, 19) || '--:--:--'} ${describeRunEvent({ event: 'work.step', data: JSON.stringify(step) }) ?? ''}`;
}

/** Runs `maestro logs`. */
export function runLogs(argv: readonly string[], ctx: CommandContext): Promise<number> {
  return runCommand(logsSpec, argv, ctx, async (args) => {
    const taskId = args.positionals[0]!;
    const subtask = stringOption(args, 'subtask');
    const limit = positiveIntOption(args, 'limit', 100_000);
    const json = flag(args, 'json');
    const gateway = gatewayFor(args, ctx);
    if (flag(args, 'follow')) {
      const task = await gateway.get<TaskView>(`/v1/tasks/${segment(taskId)}`);
      const stop = new AbortController();
      const onInterrupt = (): void => stop.abort();
      ctx.interrupt.addEventListener('abort', onInterrupt, { once: true });
      let shown = 0;
      const onEvent = (event: SseEvent): void => {
        if (limit !== undefined && shown >= limit) return;
        if (subtask !== undefined && event.event.startsWith('work.') && !event.data.includes(`"subtaskId":${JSON.stringify(subtask)}`)) return;
        if (json) {
          say(ctx, JSON.stringify({ event: event.event, data: JSON.parse(event.data) as unknown }));
          shown++;
          return;
        }
        const line = describeRunEvent(event);
        if (line === undefined) return;
        say(ctx, `${new Date().toISOString().slice(11, 19)} ${line}`);
        shown++;
      };
      try {
        await gateway.events(`/v1/runs/${segment(task.runId)}/events`, onEvent, stop.signal);
      } finally {
        ctx.interrupt.removeEventListener('abort', onInterrupt);
      }
      if (stop.signal.aborted) {
        ctx.stderr.write(`stopped following; task ${taskId} goes on\n`);
        return ExitCodes.interrupted;
      }
      return ExitCodes.ok;
    }
    let after = '';
    let shown = 0;
    do {
      const pageSize = Math.min(1000, limit === undefined ? 1000 : limit - shown);
      const query = new URLSearchParams({ limit: String(pageSize) });
      if (subtask !== undefined) query.set('subtaskId', subtask);
      if (after !== '') query.set('after', after);
      const page = await gateway.get<{ steps: StepJson[]; nextAfter: string }>(`/v1/tasks/${segment(taskId)}/steps?${query.toString()}`);
      for (const step of page.steps) say(ctx, json ? JSON.stringify(step) : describeStep(step));
      shown += page.steps.length;
      after = page.nextAfter;
    } while (after !== '' && (limit === undefined || shown < limit));
    if (shown === 0 && !json) say(ctx, `no steps recorded for task ${taskId} yet`);
    return ExitCodes.ok;
  });
}
