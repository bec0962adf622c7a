/**
 * `maestro run "<goal>" --repo <path>`: submits a task to the gateway and follows it live —
 * states, subtasks, agent steps (their model, `scripted` for the scripted provider) and a
 * progress line with elapsed time, tokens and cost — until it ends. Exit 0 only when the task
 * succeeded; 1 when it failed or was cancelled (with the reason); 2 for a bad argument, found
 * before anything is sent. Ctrl-C stops following only: the task goes on.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { isMemoryScope, MemoryScopeLimits, PROJECT_SCOPE, TaskLimits, WORKFLOW_NAME_PATTERN } from '@maestro/contracts';
import { safeGitArgs, safeGitEnv, systemClock, type Clock } from '@maestro/runtime';
import { ExitCodes, UsageError, flag, positiveNumberOption, stringListOption, stringOption, type CommandSpec, type ParsedArgs } from '../args.js';
import { CliDefaults } from '../cli-env.js';
import { formatProgress, spendOf, type Spend } from '../format.js';
import { GatewayError, GatewayUnreachableError, segment, type GatewayClient } from '../gateway-client.js';
import { FinalTaskStatuses, describeAnswer, describeOutcome, describeRunEvent, describeSubtaskChanges, stateOfEvent, type TaskView } from '../run-view.js';
import type { SseEvent } from '../sse-client.js';
import { gatewayFor, gatewayHelp, gatewayOption, runCommand, say, type CommandContext } from './context.js';

const usage = `usage: maestro run "<goal>" --repo <path> [--budget-usd N] [--workflow NAME] [--memory-scope SCOPE]... [--json] [--gateway URL]

  Submits a task and follows it live: states, subtasks, agent steps (with their model,
  "scripted" for the scripted provider) and a progress line (elapsed, tokens, cost). A question
  about the code (run on the read-only explain workflow) ends with its answer, printed whole.
  Exits 0 only when the task succeeds, 1 when it fails or is cancelled, 2 for a bad argument.
  Ctrl-C stops following; the task goes on (\`maestro cancel <task>\` stops it).

  --repo PATH       the git repository to work on (required; must have a commit)
  --budget-usd N    the most the task may spend on models, in dollars (positive)
  --workflow NAME   the workflow definition to run instead of the one the goal's intent picks
  --memory-scope SCOPE
                    whose preferences apply besides the project's: user:<id> or team:<id>;
                    repeat it for more (at most ${MemoryScopeLimits.maxTaskScopes}). The project's always apply
  --json            JSON lines for scripts: task, event, progress, result (with the answer)
${gatewayHelp}`;

/** The argument spec of `maestro run`. */
export const runSpec: CommandSpec = {
  name: 'run',
  usage,
  options: {
    repo: { type: 'string' },
    'budget-usd': { type: 'string' },
    workflow: { type: 'string' },
    'memory-scope': { type: 'string', multiple: true },
    json: { type: 'boolean' },
    ...gatewayOption,
  },
  positionals: ['goal'],
};

/** The body of `POST /v1/tasks` the arguments make. */
export interface SubmitTaskRequest {
  goal: string;
  repoPath: string;
  budget?: { usd: number };
  workflow?: string;
  /** Sent only when named, so a gateway from before memory scopes still takes the request. */
  memoryScopes?: string[];
}

function git(cwd: string, ...args: string[]): string | undefined {
  try {
    return execFileSync('git', safeGitArgs(args), { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: safeGitEnv(process.env, { readOnly: true }) }).trim();
  } catch {
    return undefined;
  }
}

/** Checks `--repo`: an existing directory inside a git repository with a commit; returns the repository's top level. */
export function checkRepo(path: string | undefined, cwd: string): string {
  if (path === undefined || path.trim() === '') throw new UsageError('--repo: required (the git repository to work on)');
  const dir = resolve(cwd, path);
  if (!existsSync(dir)) throw new UsageError(`--repo: ${dir} does not exist`);
  if (!statSync(dir).isDirectory()) throw new UsageError(`--repo: ${dir} is not a directory`);
  const top = git(dir, 'rev-parse', '--show-toplevel');
  if (top === undefined) throw new UsageError(`--repo: ${dir} is not a git repository (run \`git init\` there and commit your files)`);
  if (git(dir, 'rev-parse', '--verify', '-q', 'HEAD') === undefined) {
    throw new UsageError(`--repo: ${top} has no commit yet (commit your files first: the task works on a branch of HEAD)`);
  }
  return top;
}

/**
 * Checks the `--memory-scope` values against the shared scope rule: each `user:<id>` or
 * `team:<id>` (trimmed), at most `MemoryScopeLimits.maxTaskScopes` different ones; `project` is
 * refused since it always applies. A scope given twice is kept once, as the orchestrator does.
 */
export function checkMemoryScopes(values: readonly string[]): string[] {
  const scopes: string[] = [];
  for (const value of values) {
    const scope = value.trim();
    if (scope === PROJECT_SCOPE) throw new UsageError(`--memory-scope: "${PROJECT_SCOPE}" always applies; name only user:<id> or team:<id> scopes`);
    if (!isMemoryScope(scope)) {
      throw new UsageError(
        `--memory-scope: expected user:<id> or team:<id> (an id of 1..${MemoryScopeLimits.maxIdLength} characters without spaces, commas or colons), got "${value}"`,
      );
    }
    if (!scopes.includes(scope)) scopes.push(scope);
  }
  if (scopes.length > MemoryScopeLimits.maxTaskScopes) {
    throw new UsageError(`--memory-scope: at most ${MemoryScopeLimits.maxTaskScopes} scopes, got ${scopes.length}`);
  }
  return scopes;
}

/** Checks the arguments of `maestro run` and builds the request; throws {@link UsageError} naming the argument at fault. */
export function toSubmitRequest(args: ParsedArgs, cwd: string): SubmitTaskRequest {
  const goal = (args.positionals[0] ?? '').trim();
  if (goal === '') throw new UsageError('<goal>: must not be empty (say what the task should do)');
  if (goal.length > TaskLimits.goalMaxChars) throw new UsageError(`<goal>: at most ${TaskLimits.goalMaxChars} characters, got ${goal.length}`);
  const budgetUsd = positiveNumberOption(args, 'budget-usd');
  const workflow = stringOption(args, 'workflow');
  if (workflow !== undefined && (!new RegExp(WORKFLOW_NAME_PATTERN).test(workflow) || workflow.length > TaskLimits.workflowMaxChars)) {
    throw new UsageError(`--workflow: "${workflow}" is not a workflow name (letters, digits, "_" and "-", starting with a letter or "_"); see \`maestro defs ls\``);
  }
  const memoryScopes = checkMemoryScopes(stringListOption(args, 'memory-scope'));
  const repoPath = checkRepo(stringOption(args, 'repo'), cwd);
  return {
    goal,
    repoPath,
    ...(budgetUsd !== undefined ? { budget: { usd: budgetUsd } } : {}),
    ...(workflow !== undefined ? { workflow } : {}),
    ...(memoryScopes.length > 0 ? { memoryScopes } : {}),
  };
}

/** The identity of an event, so events replayed after a reconnect are shown once. */
function eventKey(event: SseEvent): string | undefined {
  try {
    const d = JSON.parse(event.data) as Record<string, unknown>;
    if (typeof d['seq'] === 'number' && (event.event === 'history' || event.event === 'run.transitioned')) return `t:${d['seq']}`;
    if (event.event === 'work.step') return `s:${JSON.stringify([d['subtaskId'], d['executorId'], d['step'], d['at']])}`;
    if (event.event === 'work.finished') return `f:${JSON.stringify([d['subtaskId'], d['executorId'], d['attempt'], d['commitSha'], d['ok']])}`;
    if (event.event === 'run.started' || event.event === 'run.finished') return event.event;
  } catch {
    return undefined;
  }
  return undefined;
}

/** Options for {@link followTask}. */
export interface FollowTaskOptions {
  /** Where the waits between reads and reconnects take their time from. @default systemClock */
  clock?: Clock;
  /**
   * How long after the run finished the task may take to reach a final status before `run`
   * gives up (exit 1, saying how to look again).
   * @default CliDefaults.finalStatusTimeoutMs
   */
  finalStatusTimeoutMs?: number;
  /** How often the task is re-read meanwhile. @default CliDefaults.finalStatusPollMs */
  finalStatusPollMs?: number;
}

/** A read that may well work the next time: the gateway is unreachable, overloaded or failing. */
function isTransient(err: unknown): boolean {
  return err instanceof GatewayUnreachableError || (err instanceof GatewayError && (err.status >= 500 || err.status === 429));
}

/** Waits `ms` on `clock`; an abort ends the wait early (the caller looks at the signal). */
function pause(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return clock.sleep(ms, signal).catch(() => undefined);
}

/** The width of the time that opens each printed line (`12:34:56 `). */
const TIME_WIDTH = 9;

/** Prints what a followed task does, as text (progress rewritten in place on a TTY) or JSON lines. */
class RunPrinter {
  private progressShown = false;
  constructor(
    private readonly ctx: CommandContext,
    readonly json: boolean,
    private readonly started: number,
  ) {}

  private get tty(): boolean {
    return this.ctx.stdout.isTTY === true && !this.json;
  }

  private time(): string {
    return new Date().toISOString().slice(11, 19);
  }

  private clearProgress(): void {
    if (this.tty && this.progressShown) this.ctx.stdout.write('\r\x1b[2K');
    this.progressShown = false;
  }

  line(text: string): void {
    this.clearProgress();
    say(this.ctx, `${this.time()} ${text}`);
  }

  /** Lines that belong together (an answer): the first stamped with the time, the rest lined up under it. */
  block(lines: readonly string[]): void {
    lines.forEach((text, i) => (i === 0 ? this.line(text) : say(this.ctx, text === '' ? '' : `${' '.repeat(TIME_WIDTH)}${text}`)));
  }

  record(value: Record<string, unknown>): void {
    say(this.ctx, JSON.stringify(value));
  }

  progress(spend: Spend | undefined, state: string): void {
    const elapsedMs = Date.now() - this.started;
    if (this.json) {
      this.record({ type: 'progress', elapsedMs, tokens: spend?.tokens ?? null, usd: spend?.usd ?? null, scriptedCalls: spend?.scriptedCalls ?? null, state });
      return;
    }
    const text = formatProgress(elapsedMs, spend, state);
    if (this.tty) {
      this.clearProgress();
      this.ctx.stdout.write(text);
      this.progressShown = true;
    } else {
      say(this.ctx, `${this.time()} ${text}`);
    }
  }

  done(): void {
    this.clearProgress();
  }
}

/** Follows `task` until it ends or `ctx.interrupt` aborts; returns the exit code. */
export async function followTask(gateway: GatewayClient, task: TaskView, ctx: CommandContext, json: boolean, options: FollowTaskOptions = {}): Promise<number> {
  const clock = options.clock ?? systemClock;
  const finalStatusTimeoutMs = options.finalStatusTimeoutMs ?? CliDefaults.finalStatusTimeoutMs;
  const finalStatusPollMs = options.finalStatusPollMs ?? CliDefaults.finalStatusPollMs;
  const printer = new RunPrinter(ctx, json, task.createdAt ? Date.parse(task.createdAt) || Date.now() : Date.now());
  const seen = new Set<string>();
  let state = '';
  let spend: Spend | undefined;
  let statuses = new Map<string, string>();
  let current = task;
  let runFinished = false;
  const stop = new AbortController();
  const onInterrupt = (): void => stop.abort();
  // A Ctrl-C while the task was being submitted counts too.
  if (ctx.interrupt.aborted) stop.abort();
  ctx.interrupt.addEventListener('abort', onInterrupt, { once: true });

  const absorbTask = (next: TaskView & { usage?: { total?: Record<string, number> } | null }): void => {
    current = next;
    const changes = describeSubtaskChanges(statuses, next);
    statuses = changes.statuses;
    if (!json) changes.lines.forEach((l) => printer.line(l));
    else if (changes.lines.length > 0) printer.record({ type: 'task', task: next });
    const nextSpend = spendOf(next.usage?.total);
    const changed = JSON.stringify(nextSpend) !== JSON.stringify(spend);
    spend = nextSpend;
    // Text without a TTY gets a progress line per state change, not per read; a TTY's is redrawn each second.
    if (changed && json) printer.progress(spend, state);
  };

  const onEvent = (event: SseEvent): void => {
    const key = eventKey(event);
    if (key !== undefined) {
      if (seen.has(key)) return;
      seen.add(key);
    }
    if (event.event === 'run.finished') runFinished = true;
    state = stateOfEvent(event) ?? state;
    if (json) {
      let data: unknown = event.data;
      try {
        data = JSON.parse(event.data);
      } catch {
        // kept as text
      }
      printer.record({ type: 'event', event: event.event, data });
      return;
    }
    const line = describeRunEvent(event);
    if (line) printer.line(line);
    if (stateOfEvent(event) !== undefined && event.event !== 'run.finished') printer.progress(spend, state);
  };

  const poll = async (): Promise<void> => {
    while (!stop.signal.aborted && !FinalTaskStatuses.includes(current.status)) {
      await pause(clock, 2000, stop.signal);
      if (stop.signal.aborted) return;
      try {
        absorbTask(await gateway.get<TaskView>(`/v1/tasks/${segment(task.id)}`));
      } catch {
        // A missed read only delays the next update; the stream carries on.
      }
    }
  };
  const ticker = ctx.stdout.isTTY === true && !json ? setInterval(() => printer.progress(spend, state), 1000) : undefined;

  try {
    const polling = poll();
    // The stream ends after run.finished; one that ends early (gateway restart) is reopened,
    // and what it replays is not shown twice.
    while (!stop.signal.aborted && !runFinished && !FinalTaskStatuses.includes(current.status)) {
      try {
        await gateway.events(`/v1/runs/${segment(task.runId)}/events`, onEvent, stop.signal);
      } catch (err) {
        // Refused (credentials revoked or expired, the run gone): reconnecting would only be refused again.
        if (err instanceof GatewayError && !isTransient(err)) throw err;
        if (!json) printer.line(`stream   lost (${err instanceof Error ? err.message : String(err)}); reconnecting`);
      }
      if (!runFinished) await pause(clock, 1000, stop.signal);
    }
    // The orchestrator learns that the run ended from the run's events: the task may lag a
    // moment. A failed read is tried again (as poll() does), but not for ever.
    const deadline = clock.now() + finalStatusTimeoutMs;
    let lastError: unknown;
    while (!stop.signal.aborted && !FinalTaskStatuses.includes(current.status)) {
      try {
        absorbTask(await gateway.get<TaskView>(`/v1/tasks/${segment(task.id)}`));
        lastError = undefined;
      } catch (err) {
        if (!isTransient(err)) throw err;
        lastError = err;
      }
      if (FinalTaskStatuses.includes(current.status)) break;
      if (clock.now() >= deadline) {
        const why = lastError === undefined ? `still "${current.status}"` : `not readable (${lastError instanceof Error ? lastError.message : String(lastError)})`;
        throw new Error(
          `the run of task ${task.id} finished, but the task is ${why} after ${Math.round(finalStatusTimeoutMs / 1000)}s; look again with \`maestro show ${task.id}\``,
        );
      }
      await pause(clock, finalStatusPollMs, stop.signal);
    }
    if (stop.signal.aborted) {
      printer.done();
      const message = `stopped following; task ${task.id} goes on. Follow it again with \`maestro logs ${task.id} --follow\`, stop it with \`maestro cancel ${task.id}\``;
      if (json) printer.record({ type: 'detached', taskId: task.id, message });
      else ctx.stderr.write(`\n${message}\n`);
      return ExitCodes.interrupted;
    }
    stop.abort();
    await polling;
    try {
      absorbTask(await gateway.get<TaskView>(`/v1/tasks/${segment(task.id)}`));
    } catch (err) {
      // The final status is known already; this read only freshens the totals.
      if (!isTransient(err)) throw err;
    }
    const exitCode = current.status === 'succeeded' ? ExitCodes.ok : ExitCodes.failed;
    if (json) {
      printer.record({ type: 'result', taskId: current.id, status: current.status, failureReason: current.failureReason ?? '', answer: current.answer ?? '', exitCode, task: current });
    } else {
      printer.progress(spend, state);
      if (ctx.stdout.isTTY === true) say(ctx, '');
      describeOutcome(current).forEach((l) => printer.line(l));
      // A question's answer is what the task produced: shown whole, last.
      printer.block(describeAnswer(current.answer));
    }
    return exitCode;
  } finally {
    if (ticker) clearInterval(ticker);
    stop.abort();
    ctx.interrupt.removeEventListener('abort', onInterrupt);
    printer.done();
  }
}

/** Runs `maestro run`. */
export function runRun(argv: readonly string[], ctx: CommandContext): Promise<number> {
  return runCommand(runSpec, argv, ctx, async (args: ParsedArgs) => {
    const request = toSubmitRequest(args, ctx.cwd);
    const json = flag(args, 'json');
    const gateway = gatewayFor(args, ctx);
    const task = await gateway.post<TaskView>('/v1/tasks', request);
    if (json) {
      say(ctx, JSON.stringify({ type: 'task', task }));
    } else {
      say(ctx, `task ${task.id} submitted (run ${task.runId}) on ${request.repoPath}`);
      say(ctx, `  goal: ${request.goal}`);
      if (request.memoryScopes) say(ctx, `  memory: ${PROJECT_SCOPE}, ${request.memoryScopes.join(', ')}`);
      say(ctx, `  viewer: ${gateway.baseUrl}/runs/${task.runId}   (Ctrl-C stops following, not the task)`);
    }
    return followTask(gateway, task, ctx, json);
  });
}
