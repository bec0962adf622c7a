/**
 * A run as the run page holds it, and how each server-sent event changes it: transitions by
 * `seq` (each once), agent steps by their identity (each once, kept in time order), escalations
 * merged by id, and the run's end. The page keeps one state object and calls
 * {@link applyRunEvent} per event, so a replayed event and its live copy never show twice.
 *
 * A model step carries its own call (provider, model, tokens, cost: `modelCall`), recorded and
 * live alike, so a step opened after the run shows them. Live `llm.completed` events are still
 * matched to model steps, only as a fallback for steps recorded before steps carried their call
 * ({@link stepCall} prefers the step's own record).
 */
import type { AgentStep, EscalationEvent, LlmCompleted, Run, StepModelCall, Transition } from '../api/types';
import type { StreamEvent } from '../api/event-stream';
import { compareSteps, stepKey, stepTimeMs } from './step-key';

/** One step with what the viewer learnt about it. */
export interface StepEntry {
  key: string;
  step: AgentStep;
  /** The `llm.completed` matched to a `model` step (the fallback for steps without `modelCall`). */
  usage?: LlmCompleted;
  /** Time since the same agent's previous step (ms), when there is one. */
  sincePreviousMs?: number;
}

/** The run page's state. */
export interface RunState {
  runId: string;
  definitionName: string;
  definitionVersion: number;
  status: string;
  state: string;
  taskId: string;
  error?: { code: string; message: string };
  transitions: Transition[];
  steps: StepEntry[];
  byKey: Map<string, StepEntry>;
  /** Completions of the run's subtasks, in time order, for matching to model steps. */
  completions: LlmCompleted[];
  /** Completions outside subtasks (Orion's intake, plan, review). */
  orionCompletions: LlmCompleted[];
  escalations: Map<string, EscalationEvent>;
}

/** Event names the run page listens to on `/v1/runs/:id/events`. */
export const RunStreamEvents = [
  'run.started',
  'run.transitioned',
  'run.finished',
  'work.step',
  'work.finished',
  'task.updated',
  'llm.completed',
  'escalation.raised',
  'escalation.decided',
  'activity.requested',
] as const;

/** What an event did, so the page knows whether to re-read the task (subtasks, usage) or close the stream. */
export interface RunEventEffect {
  changed: boolean;
  finished: boolean;
  /** The task behind the run changed (subtask results, status, usage). */
  taskChanged: boolean;
}

const str = (value: unknown, fallback = ''): string => (typeof value === 'string' ? value : fallback);
const num = (value: unknown, fallback = 0): number => (typeof value === 'number' && Number.isFinite(value) ? value : fallback);

/** The task id a coding run was started for (`context.input.taskId`), or ''. */
export function taskIdOfRun(run: Pick<Run, 'context'>): string {
  const input = run.context?.['input'];
  return typeof input === 'object' && input !== null ? str((input as Record<string, unknown>)['taskId']) : '';
}

/** The state of a run just read with `GET /v1/runs/:id` (its history and first steps included). */
export function createRunState(run: Run): RunState {
  const state: RunState = {
    runId: run.id,
    definitionName: run.definitionName,
    definitionVersion: run.definitionVersion,
    status: run.status,
    state: run.state,
    taskId: taskIdOfRun(run),
    transitions: [],
    steps: [],
    byKey: new Map(),
    completions: [],
    orionCompletions: [],
    escalations: new Map(),
  };
  for (const t of run.history ?? []) addTransition(state, t);
  addSteps(state, run.steps ?? []);
  return state;
}

/** A model step's call as the viewer shows it, and where it came from. */
export interface StepCall extends StepModelCall {
  /** `recorded`: the step's own `modelCall`; `live`: an `llm.completed` seen while the page was open. */
  source: 'recorded' | 'live';
  /** How long the call took, when known. */
  durationMs?: number;
}

/** The call behind a model step: its recorded `modelCall`, else the matched live completion, else undefined. */
export function stepCall(entry: StepEntry): StepCall | undefined {
  const call = entry.step.modelCall;
  if (call) {
    return {
      ...call,
      provider: call.scripted ? 'scripted' : call.provider,
      source: 'recorded',
      ...(typeof entry.step.durationMs === 'number' ? { durationMs: entry.step.durationMs } : {}),
    };
  }
  const u = entry.usage;
  if (!u) return undefined;
  return {
    provider: u.scripted ? 'scripted' : u.provider,
    model: u.model,
    scripted: u.scripted,
    inputTokens: u.inputTokens,
    cachedInputTokens: u.cachedInputTokens ?? 0,
    outputTokens: u.outputTokens,
    reasoningTokens: u.reasoningTokens ?? 0,
    usd: u.costUsd,
    priced: u.priced !== false,
    source: 'live',
    durationMs: u.durationMs,
  };
}

function addTransition(state: RunState, transition: Transition): boolean {
  if (state.transitions.some((t) => t.seq === transition.seq)) return false;
  const index = state.transitions.findIndex((t) => t.seq > transition.seq);
  if (index < 0) state.transitions.push(transition);
  else state.transitions.splice(index, 0, transition);
  return true;
}

/** Adds steps not seen yet, keeping time order; returns how many were new. */
export function addSteps(state: RunState, steps: readonly AgentStep[]): number {
  const touched = new Set<string>();
  let added = 0;
  for (const step of steps) {
    const key = stepKey(step);
    if (state.byKey.has(key)) continue;
    const entry: StepEntry = { key, step };
    state.byKey.set(key, entry);
    insertSorted(state.steps, entry);
    touched.add(step.subtaskId);
    added++;
  }
  for (const subtaskId of touched) relinkSubtask(state, subtaskId);
  return added;
}

function insertSorted(entries: StepEntry[], entry: StepEntry): void {
  // Live steps mostly arrive last: check the end before searching.
  const last = entries[entries.length - 1];
  if (last === undefined || compareSteps(last.step, entry.step) <= 0) {
    entries.push(entry);
    return;
  }
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (compareSteps((entries[mid] as StepEntry).step, entry.step) <= 0) low = mid + 1;
    else high = mid;
  }
  entries.splice(low, 0, entry);
}

/**
 * Re-derives one subtask's links: each completion goes to the first model step of that subtask
 * taken at or after it (the executor reports the step once the reply is back), and each step
 * learns the time since its agent's previous step.
 */
function relinkSubtask(state: RunState, subtaskId: string): void {
  const entries = state.steps.filter((e) => e.step.subtaskId === subtaskId);
  const previousAt = new Map<string, number>();
  for (const entry of entries) {
    const at = stepTimeMs(entry.step);
    const previous = previousAt.get(entry.step.executorId);
    if (previous !== undefined && !Number.isNaN(at)) entry.sincePreviousMs = at - previous;
    if (!Number.isNaN(at)) previousAt.set(entry.step.executorId, at);
    delete entry.usage;
  }
  const models = entries.filter((e) => e.step.kind === 'model');
  let next = 0;
  for (const completion of state.completions) {
    if (completion.subtaskId !== subtaskId) continue;
    const at = Date.parse(completion.at);
    while (next < models.length && stepTimeMs((models[next] as StepEntry).step) < at) next++;
    const model = models[next];
    if (model === undefined) break;
    model.usage = completion;
    next++;
  }
}

function addCompletion(state: RunState, data: Record<string, unknown>): void {
  const completion: LlmCompleted = {
    role: str(data['role']),
    intent: str(data['intent']),
    provider: str(data['provider']),
    model: str(data['model']),
    scripted: data['scripted'] === true,
    inputTokens: num(data['inputTokens']),
    outputTokens: num(data['outputTokens']),
    cachedInputTokens: num(data['cachedInputTokens']),
    reasoningTokens: num(data['reasoningTokens']),
    costUsd: num(data['costUsd']),
    ...(typeof data['priced'] === 'boolean' ? { priced: data['priced'] } : {}),
    durationMs: num(data['durationMs']),
    ...(typeof data['subtaskId'] === 'string' ? { subtaskId: data['subtaskId'] } : {}),
    at: str(data['at']),
  };
  if (completion.subtaskId === undefined || completion.subtaskId === '') {
    state.orionCompletions.push(completion);
    return;
  }
  const at = Date.parse(completion.at);
  const index = state.completions.findIndex((c) => Date.parse(c.at) > at);
  if (index < 0) state.completions.push(completion);
  else state.completions.splice(index, 0, completion);
  relinkSubtask(state, completion.subtaskId);
}

function mergeEscalation(state: RunState, name: string, data: Record<string, unknown>): void {
  const id = str(data['escalationId']);
  if (id === '') return;
  const before = state.escalations.get(id);
  const decided = name === 'escalation.decided';
  const merged: EscalationEvent = {
    escalationId: id,
    subtaskId: str(data['subtaskId'], before?.subtaskId ?? ''),
    attempt: num(data['attempt'], before?.attempt ?? 0),
    at: before?.at ?? str(data['at']),
  };
  const reason = decided ? before?.reason : str(data['reason']) || before?.reason;
  const summary = decided ? before?.summary : str(data['summary']) || before?.summary;
  const decision = decided ? str(data['decision']) : before?.decision;
  const decisionReason = decided ? str(data['reason']) : before?.decisionReason;
  const hint = decided ? str(data['hint']) : before?.hint;
  if (reason) merged.reason = reason;
  if (summary) merged.summary = summary;
  if (decision) merged.decision = decision;
  if (decisionReason) merged.decisionReason = decisionReason;
  if (hint) merged.hint = hint;
  state.escalations.set(id, merged);
}

function toStep(data: Record<string, unknown>): AgentStep {
  return data as unknown as AgentStep;
}

/** Applies one event of the run's stream. */
export function applyRunEvent(state: RunState, event: StreamEvent): RunEventEffect {
  const { data } = event;
  const none: RunEventEffect = { changed: false, finished: false, taskChanged: false };
  if (str(data['runId'], state.runId) !== state.runId) return none;
  switch (event.name) {
    case 'run.started':
    case 'run.transitioned': {
      const seq = num(data['seq'], -1);
      const toState = str(data['state']);
      const note = data['note'] === true;
      const isNew = seq >= 0 && addTransition(state, { seq, fromState: str(data['fromState']), toState, eventType: str(data['eventType']), event: null, at: str(data['at']) || null, ...(note ? { note } : {}) });
      const latest = state.transitions[state.transitions.length - 1];
      if (isNew && latest?.seq === seq && state.status === 'running') state.state = toState;
      return { changed: isNew, finished: false, taskChanged: isNew };
    }
    case 'run.finished': {
      state.status = str(data['status'], state.status);
      state.state = str(data['state'], state.state);
      const error = data['error'];
      if (typeof error === 'object' && error !== null) {
        const e = error as Record<string, unknown>;
        state.error = { code: str(e['code']), message: str(e['message']) };
      }
      return { changed: true, finished: true, taskChanged: true };
    }
    case 'work.step':
      return { changed: addSteps(state, [toStep(data)]) > 0, finished: false, taskChanged: false };
    case 'llm.completed':
      addCompletion(state, data);
      return { changed: true, finished: false, taskChanged: false };
    case 'escalation.raised':
    case 'escalation.decided':
      mergeEscalation(state, event.name, data);
      return { changed: true, finished: false, taskChanged: true };
    case 'work.finished':
    case 'task.updated':
      return { changed: false, finished: false, taskChanged: true };
    default:
      return none;
  }
}
