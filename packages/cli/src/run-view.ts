/**
 * What a followed task looks like as text: one line per state change, subtask change and agent
 * step, from the run's SSE events (`GET /v1/runs/:id/events`) and the task as re-read from the
 * gateway. Pure: the command feeds it events and tasks and prints the lines it returns.
 */
import type { SseEvent } from './sse-client.js';
import { oneLine } from './format.js';

/** A subtask as the gateway's task JSON shows it (the fields shown here). */
export interface SubtaskView {
  id: string;
  title: string;
  status: string;
  executorId?: string;
  commitSha?: string;
  failureReason?: string;
}

/** A task as the gateway's JSON shows it (the fields the CLI reads). */
export interface TaskView {
  id: string;
  goal: string;
  status: string;
  runId: string;
  repoPath: string;
  workflow?: string;
  failureReason?: string;
  reviewSummary?: string;
  /** The answer of a task run on the read-only `explain` workflow; '' (or absent, from an older gateway) otherwise. */
  answer?: string;
  subtasks?: SubtaskView[];
  delivery?: { mode?: string; branch?: string; sha?: string; delivered?: boolean; reason?: string } | null;
  usage?: { total?: Record<string, number> } | null;
  usageError?: string | null;
  createdAt?: string | null;
  updatedAt?: string | null;
}

/** Task statuses after which nothing changes. */
export const FinalTaskStatuses: readonly string[] = ['succeeded', 'failed', 'cancelled'];

/**
 * Splits a `model` step's summary (`[scripted] scripted/demo: text` or
 * `deepseek/deepseek-chat: text`) into its model, `scripted` for the scripted provider, and text.
 */
export function splitModelSummary(summary: string): { model: string | undefined; text: string } {
  const scripted = summary.startsWith('[scripted]');
  const rest = summary.replace(/^\[scripted\]\s*/, '');
  // Lazy up to the first ": ": a model name may hold colons (`openai/qwen2.5-coder:32b`).
  const match = /^([\w.-]+\/\S+?):\s/.exec(rest);
  const text = match ? rest.slice(match[0].length) : rest;
  return { model: scripted ? 'scripted' : match?.[1], text };
}

function parse(data: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(data);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The current state of a run as an event tells it, or undefined. */
export function stateOfEvent(event: SseEvent): string | undefined {
  if (event.event !== 'run.transitioned' && event.event !== 'history' && event.event !== 'run.finished') return undefined;
  const d = parse(event.data);
  const state = d?.['state'] ?? d?.['toState'];
  return typeof state === 'string' && state !== '' ? state : undefined;
}

/** One line describing an event of the run's stream; undefined for events not shown. */
export function describeRunEvent(event: SseEvent): string | undefined {
  const d = parse(event.data);
  if (!d) return undefined;
  const s = (key: string): string => (d[key] === undefined || d[key] === null ? '' : String(d[key]));
  switch (event.event) {
    case 'history':
    case 'run.transitioned':
      return `state    ${s('fromState') || '(start)'} → ${s('state') || s('toState')}${s('eventType') ? `  (on ${s('eventType')})` : ''}`;
    case 'run.started':
      return `run      started (workflow ${s('definitionName')})`;
    case 'work.step': {
      const kind = s('kind');
      const summary = s('summary');
      const model = kind === 'model' ? splitModelSummary(summary) : undefined;
      const what = model ? `model ${model.model ?? '(unknown)'}` : kind === 'tool' ? `tool ${s('tool')}` : kind;
      const text = model ? model.text : summary;
      return `step     ${s('subtaskId')} #${s('step')} ${what}${d['ok'] === false ? ' ✗' : ''}: ${oneLine(text, 100)}`;
    }
    case 'work.finished':
      return `subtask  ${s('subtaskId')} ${d['ok'] ? 'succeeded' : 'FAILED'} on ${s('executorId')}${d['commitSha'] ? ` — commit ${s('commitSha').slice(0, 10)}` : ''}${d['failureReason'] ? ` — ${oneLine(s('failureReason'), 120)}` : ''}`;
    case 'escalation.raised':
      return `escalate ${s('subtaskId')} to the strategic model (${s('reason')})`;
    case 'escalation.decided':
      return `escalate decision for ${s('subtaskId')}: ${s('decision')}${d['reason'] ? ` — ${oneLine(s('reason'), 120)}` : ''}`;
    case 'run.finished':
      return `run      finished: ${s('status')} in state ${s('state')}${d['error'] ? ` — ${JSON.stringify(d['error'])}` : ''}`;
    default:
      return undefined;
  }
}

/**
 * Lines for what changed in the task's subtasks since `previous` (by id): new subtasks and
 * status changes. Returns the lines and the statuses to compare the next read with.
 */
export function describeSubtaskChanges(previous: ReadonlyMap<string, string>, task: TaskView): { lines: string[]; statuses: Map<string, string> } {
  const lines: string[] = [];
  const statuses = new Map(previous);
  for (const subtask of task.subtasks ?? []) {
    const before = previous.get(subtask.id);
    if (before === subtask.status) continue;
    statuses.set(subtask.id, subtask.status);
    if (before === undefined) lines.push(`subtask  ${subtask.id} planned: ${oneLine(subtask.title, 100)} (${subtask.status})`);
    else lines.push(`subtask  ${subtask.id} ${before} → ${subtask.status}${subtask.executorId ? ` on ${subtask.executorId}` : ''}`);
  }
  return { lines, statuses };
}

/** The width of the labels (`task     `, `answer   `) that open the lines shown for a task. */
const LABEL_WIDTH = 9;

/**
 * The answer of a task as a block of lines, the first labelled `answer`, the rest indented to
 * line up with it: shown whole (it is the outcome of an `explain` task, not a summary of one),
 * line breaks kept. Control characters other than tabs are dropped, so a model's reply cannot
 * move the cursor or recolour the terminal. Empty when there is no answer.
 */
export function describeAnswer(answer: string | undefined): string[] {
  const lines = (answer ?? '').split(/\r\n|\r|\n/).map((line) => line.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '').trimEnd());
  // Blank lines around the answer carry nothing; those inside it separate paragraphs.
  while (lines.length > 0 && lines[0] === '') lines.shift();
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.map((line, i) => (i === 0 ? `${'answer'.padEnd(LABEL_WIDTH)}${line}` : line === '' ? '' : `${' '.repeat(LABEL_WIDTH)}${line}`));
}

/** The closing lines of a followed task: its outcome, reason, delivery and spend. */
export function describeOutcome(task: TaskView): string[] {
  const lines = [`task     ${task.id} ${task.status}${task.failureReason ? ` — ${task.failureReason}` : ''}`];
  if (task.reviewSummary) lines.push(`review   ${oneLine(task.reviewSummary, 160)}`);
  const delivery = task.delivery;
  if (delivery?.branch) {
    lines.push(`branch   ${delivery.branch}${delivery.sha ? ` at ${delivery.sha.slice(0, 12)}` : ''}${delivery.delivered ? ` (${delivery.mode ?? 'delivered'})` : ''}${delivery.reason ? ` — ${delivery.reason}` : ''}`);
  }
  return lines;
}
