/**
 * The fault suite's workload and its observer: task submissions recorded as Jepsen operations
 * (each with its own sample repository, idempotency key and goal marker), and, after the run,
 * what became of each: the tasks carrying its marker, their final status, their `task.updated`
 * events, their dead letters and their commits per subtask on `maestro/<taskId>`.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bus } from '@maestro/bus';
import { prepareSampleRepo } from '@maestro/cli';
import { Streams, SubtaskWorkSchema, Subjects, TaskEventSchema } from '@maestro/contracts';
import { FAULT_SCRIPT_DIR_PREFIX, repoRoot } from './fault-cluster.js';
import { OpOutcomes, formatTable, summarize, type ObservedTask, type OperationRecord, type OpOutcome, type ScenarioSummary } from './jepsen-table.js';

/** The subtasks every task's plan has: id, the file it creates, its commit message. */
export const PlanParts = [
  { subtaskId: 's1', name: 'alpha' },
  { subtaskId: 's2', name: 'beta' },
] as const;

const commitMessage = (name: string): string => `Add ${name}`;

/**
 * How long an agent waits at a closed gate: as long as the exec tool lets a command run (120 s)
 * allows, so a stalled machine cannot run the hold out before the fault is injected.
 */
const GATE_HOLD_MS = 110_000;
const holdScript = join(repoRoot, 'examples', 'scripts', 'hold-until-file.mjs');

/**
 * Writes the scripted models' replies: a plan of {@link PlanParts}, each subtask writing one
 * file and committing it; with `gateFile`, each agent waits at the gate (up to `holdMs`) between
 * its write and its commit, so a fault can be injected while subtasks are in the middle.
 */
export function writeFaultScript(options: { gateFile?: string; holdMs?: number } = {}): string {
  const plan = {
    subtasks: PlanParts.map((p) => ({ id: p.subtaskId, title: `Create src/${p.name}.js`, instructions: `Export ${p.name}().`, files: [`src/${p.name}.js`] })),
  };
  const code = PlanParts.map((p) => ({
    name: `code-${p.name}`,
    when: { intent: 'code', contains: `Create src/${p.name}.js` },
    turns: [
      { toolCalls: [{ name: 'fs.write', arguments: { path: `src/${p.name}.js`, content: `export function ${p.name}() {\n  return '${p.name}';\n}\n` } }] },
      ...(options.gateFile !== undefined
        ? [{ toolCalls: [{ name: 'exec', arguments: { argv: ['node', holdScript, options.gateFile, String(options.holdMs ?? GATE_HOLD_MS)] } }] }]
        : []),
      { toolCalls: [{ name: 'git.commit', arguments: { message: commitMessage(p.name), paths: [`src/${p.name}.js`] } }] },
      { content: `Added ${p.name}.` },
    ],
  }));
  const rules = [
    { name: 'plan', when: { intent: 'plan' }, turns: [{ content: JSON.stringify(plan) }] },
    ...code,
    { name: 'review', when: { intent: 'review' }, turns: [{ content: JSON.stringify({ approved: true, summary: 'both parts added' }) }] },
  ];
  // Its directory goes when the fault cluster that runs it stops (startFaultCluster).
  const path = join(mkdtempSync(join(tmpdir(), FAULT_SCRIPT_DIR_PREFIX)), 'script.json');
  writeFileSync(path, JSON.stringify({ description: 'fault suite: two subtasks, each writing and committing one file', rules }));
  return path;
}

/** One submission: its id (idempotency key, goal marker), repository and how it ended. */
export interface Operation {
  id: string;
  marker: string;
  repo: string;
  baseSha: string;
  outcome: OpOutcome | 'pending';
  detail?: string;
  /** The task id the gateway answered with, when it accepted. */
  taskId?: string;
}

const git = (repo: string, ...args: string[]): string => execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();

/** Submissions of one scenario, and the check of what became of them. */
export class Workload {
  readonly ops: Operation[] = [];
  private readonly run = randomUUID().slice(0, 6);

  private readonly gateway: string;
  private readonly headers: Record<string, string>;

  constructor(
    /** The cluster's gateway and what each request to it carries (its operator key). */
    target: { gateway: string; headers: Record<string, string> },
    readonly scenario: string,
    /** How long one submission may take before the client gives up on it (unknown). */
    private readonly requestTimeoutMs = 15_000,
  ) {
    this.gateway = target.gateway;
    this.headers = target.headers;
  }

  /** Invokes one submission: POST /v1/tasks with its idempotency key; records ok / failed / unknown. */
  async submit(): Promise<Operation> {
    const n = this.ops.length + 1;
    const id = `${this.scenario}-${this.run}-${n}`;
    const { repo, baseSha } = prepareSampleRepo(repoRoot);
    const op: Operation = { id, marker: `[fault-op ${id}]`, repo, baseSha, outcome: 'pending' };
    this.ops.push(op);
    const result = await this.post(op);
    op.outcome = result.outcome;
    if (result.detail !== undefined) op.detail = result.detail;
    if (result.taskId !== undefined) op.taskId = result.taskId;
    return op;
  }

  /**
   * The client retrying its unknown submissions once, with the same idempotency key (what a
   * careful client does after a timeout). The operation keeps its first outcome in the table;
   * the retry can only ever find or start the one task the key names.
   */
  async retryUnknown(): Promise<void> {
    for (const op of this.ops.filter((o) => o.outcome === OpOutcomes.unknown)) await this.post(op);
  }

  private async post(op: Operation): Promise<{ outcome: OpOutcome; detail?: string; taskId?: string }> {
    try {
      const res = await fetch(`${this.gateway}/v1/tasks`, {
        method: 'POST',
        headers: { ...this.headers, 'content-type': 'application/json' },
        body: JSON.stringify({ goal: `Add the alpha and beta helpers ${op.marker}`, repoPath: op.repo, idempotencyKey: op.id }),
        signal: AbortSignal.timeout(this.requestTimeoutMs),
      });
      const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
      if (res.ok) return { outcome: OpOutcomes.ok, taskId: String(body['id']) };
      const detail = `${res.status} ${JSON.stringify(body).slice(0, 200)}`;
      return res.status < 500 ? { outcome: OpOutcomes.failed, detail } : { outcome: OpOutcomes.unknown, detail };
    } catch (err) {
      return { outcome: OpOutcomes.unknown, detail: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
    }
  }

  /** The tasks whose goal carries `marker` (GET /v1/tasks?q=…), or why the gateway cannot say now. */
  private async listTasksOf(op: Operation): Promise<{ tasks: Array<Record<string, unknown>> } | { error: string }> {
    try {
      const res = await fetch(`${this.gateway}/v1/tasks?limit=50&q=${encodeURIComponent(op.marker)}`, { headers: this.headers, signal: AbortSignal.timeout(10_000) });
      if (!res.ok) return { error: `${res.status} ${(await res.text()).slice(0, 200)}` };
      const body = (await res.json()) as { tasks: Array<Record<string, unknown>> };
      return { tasks: body.tasks.filter((t) => String(t['goal']).includes(op.marker)) };
    } catch (err) {
      return { error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
    }
  }

  private async tasksOf(op: Operation): Promise<Array<Record<string, unknown>> | undefined> {
    const listed = await this.listTasksOf(op);
    return 'tasks' in listed ? listed.tasks : undefined;
  }

  /**
   * Waits (bounded) until every accepted submission has a task and every task found has ended.
   * Resolves either way: the check decides what a task still running at the bound means (lost).
   */
  async settle(boundMs = 120_000): Promise<void> {
    const deadline = Date.now() + boundMs;
    for (;;) {
      let settled = true;
      for (const op of this.ops) {
        const tasks = await this.tasksOf(op);
        if (tasks === undefined) settled = false;
        else if (op.outcome === OpOutcomes.ok && tasks.length === 0) settled = false;
        else if (tasks.some((t) => !['succeeded', 'failed', 'cancelled'].includes(String(t['status'])))) settled = false;
        if (!settled) break;
      }
      if (settled || Date.now() > deadline) return;
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** What became of every submission, for the checker. */
  async observe(bus: Bus): Promise<OperationRecord[]> {
    const terminalEvents = await readTerminalEvents(bus);
    const deadLettered = await readDeadLetteredTasks(bus);
    const records: OperationRecord[] = [];
    for (const op of this.ops) {
      const listed = await this.listTasksOf(op);
      const found = 'tasks' in listed ? listed.tasks : [];
      const tasks: ObservedTask[] = found.map((t) => {
        const id = String(t['id']);
        return {
          id,
          status: String(t['status']),
          failureReason: typeof t['failureReason'] === 'string' ? t['failureReason'] : null,
          terminalEvents: terminalEvents.get(id) ?? [],
          commitsBySubtask: commitsBySubtask(op, id),
          deadLettered: deadLettered.has(id),
        };
      });
      records.push({
        id: op.id,
        outcome: op.outcome === 'pending' ? OpOutcomes.unknown : op.outcome,
        ...(op.detail !== undefined ? { detail: op.detail } : {}),
        ...('error' in listed ? { unobservable: listed.error } : {}),
        tasks,
      });
    }
    return records;
  }

  /** Deletes the submissions' repositories. */
  cleanup(): void {
    for (const op of this.ops) rmSync(op.repo, { recursive: true, force: true });
  }
}

/** Commits per planned subtask on the task branch (0 each when the branch does not exist). */
export function commitsBySubtask(op: Pick<Operation, 'repo' | 'baseSha'>, taskId: string): Record<string, number> {
  let subjects: string[] = [];
  try {
    subjects = git(op.repo, 'log', '--no-merges', '--format=%s', `${op.baseSha}..maestro/${taskId}`).split('\n');
  } catch {
    subjects = [];
  }
  return Object.fromEntries(PlanParts.map((p) => [p.subtaskId, subjects.filter((s) => s === commitMessage(p.name)).length]));
}

/** Every stored message of one subject of a stream, read through an ephemeral ordered consumer. */
export async function readStream(bus: Bus, streamName: string, subject: string): Promise<Array<{ data: Uint8Array; headers: Map<string, string> }>> {
  const stream = bus.namespace.stream(streamName);
  const consumer = await bus.js.consumers.get(stream, { filter_subjects: bus.namespace.subject(subject) });
  const out: Array<{ data: Uint8Array; headers: Map<string, string> }> = [];
  try {
    if ((await consumer.info(true)).num_pending === 0) return out;
    const messages = await consumer.consume({ max_messages: 1_000 });
    const timer = setTimeout(() => messages.stop(), 20_000);
    try {
      for await (const msg of messages) {
        const headers = new Map<string, string>();
        for (const [key, values] of msg.headers ?? []) headers.set(key, values[0] ?? '');
        out.push({ data: msg.data, headers });
        if (msg.info.pending === 0) break;
      }
    } finally {
      clearTimeout(timer);
      messages.stop();
    }
  } finally {
    await consumer.delete().catch(() => undefined);
  }
  return out;
}

function parseJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch {
    return undefined;
  }
}

/** The final statuses each task's `task.updated` events carried, in stream order. */
async function readTerminalEvents(bus: Bus): Promise<Map<string, string[]>> {
  const byTask = new Map<string, string[]>();
  for (const msg of await readStream(bus, Streams.events.name, Subjects.taskUpdated)) {
    const parsed = TaskEventSchema.safeParse(parseJson(msg.data));
    if (!parsed.success || !['succeeded', 'failed', 'cancelled'].includes(parsed.data.status)) continue;
    byTask.set(parsed.data.taskId, [...(byTask.get(parsed.data.taskId) ?? []), parsed.data.status]);
  }
  return byTask;
}

/** Task ids of the work items in the dead-letter stream. */
async function readDeadLetteredTasks(bus: Bus): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const msg of await readStream(bus, Streams.deadLetter.name, Subjects.deadLetter('>'))) {
    const parsed = SubtaskWorkSchema.safeParse(parseJson(msg.data));
    if (parsed.success) ids.add(parsed.data.taskId);
  }
  return ids;
}

/**
 * Classifies the scenario's operations, prints its table (and notes), writes the row to
 * `<MAESTRO_FAULT_RESULTS_DIR>/<scenario>.json` for the suite's summary (fault-summary-reporter.cjs
 * sets that directory; .demo/fault-results/ without it), and returns it.
 */
export function report(scenario: string, records: readonly OperationRecord[], notes: readonly string[] = []): ScenarioSummary {
  const row = summarize(scenario, records);
  const dir = process.env['MAESTRO_FAULT_RESULTS_DIR'] ?? join(repoRoot, '.demo', 'fault-results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${scenario}.json`), JSON.stringify({ row, notes, at: new Date().toISOString() }, null, 2));
  console.log(`fault scenario ${scenario}\n${formatTable([row], notes)}`);
  return row;
}
