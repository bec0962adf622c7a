/**
 * `maestro demo` (what `make demo` runs): the main job end to end on this machine. With
 * `--wire` the same task runs through the real Gemini and DeepSeek adapters against local fake
 * servers; `--scenario escalation` tells the escalation story. Starts the
 * seven services as separate processes against NATS, PostgreSQL and Redis on 127.0.0.1,
 * submits a coding task on a copy of `examples/sample-repo` through the gateway, prints each
 * state change live, and ends with the outcome: states visited, files changed, the
 * repository's own tests passing, and the commit created. The models are the scripted
 * provider replaying `examples/scripts/demo-script.json` — no model is asked, and the output
 * says so.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { Streams } from '@maestro/contracts';
import { connectBus } from '@maestro/bus';
import { ScriptedProvider, type CompletionRequest } from '@maestro/llm';
import { createSilentLogger, safeGitArgs, safeGitEnv } from '@maestro/runtime';
import { startFakeGeminiServer, startFakeOpenAIServer } from '@maestro/testing';
import { freePort } from './free-port.js';
import { LocalCluster, MigratingServices, ServiceNames } from './local-cluster.js';
import { readEventStream, type SseEvent } from './sse-client.js';

/** Options for {@link runDemo}. */
export interface DemoOptions {
  /** Repository root. */
  root: string;
  natsUrl: string;
  /** Server URL of PostgreSQL; the demo creates (and drops) its own database there. */
  postgresUrl: string;
  redisUrl: string;
  /** Executor processes to start. @default 2 */
  executors?: number;
  /** Keep the database, streams and temp repository afterwards. @default false */
  keep?: boolean;
  /**
   * Serve the script over the real wire formats: the strategic role on the gemini adapter and
   * the tactical role on the deepseek adapter (the official SDKs), each pointed at a local fake
   * server replaying the script. The real adapter code paths, end to end; still not a model.
   * @default false
   */
  wire?: boolean;
  /** Which scripted story to run. @default 'default' */
  scenario?: DemoScenarioName;
  out?: (line: string) => void;
}

const time = (): string => new Date().toISOString().slice(11, 19);

/** The scripted stories the demo can tell. */
export const DemoScenarios = {
  /** Plan, two subtasks coded and committed, review. */
  default: {
    script: 'demo-script.json',
    goal: 'Add subtraction and multiplication helpers to the calculator, with tests.',
    expectEscalation: false,
  },
  /** A subtask fails twice, escalates, the strategic model's hint fixes it, the task succeeds. */
  escalation: {
    script: 'escalation-script.json',
    goal: 'Add a division helper to the calculator that refuses division by zero, with tests.',
    expectEscalation: true,
  },
} as const;
/** One of {@link DemoScenarios}. */
export type DemoScenarioName = keyof typeof DemoScenarios;

/** True when `name` is a scenario. */
export function isDemoScenario(name: string): name is DemoScenarioName {
  return Object.prototype.hasOwnProperty.call(DemoScenarios, name);
}

/** Fake provider servers replaying a script over Gemini's and DeepSeek's wire formats. */
interface WireFakes {
  env: Record<string, string>;
  describe: string[];
  close(): Promise<void>;
}

/**
 * Starts the fake Gemini and DeepSeek servers (127.0.0.1, free ports), each answering from the
 * scripted provider. Their keys are placeholders: the servers accept anything.
 */
async function startWireFakes(scriptPath: string): Promise<WireFakes> {
  const scripted = ScriptedProvider.fromFile(scriptPath);
  const reply = (request: CompletionRequest) => scripted.complete(request);
  const gemini = await startFakeGeminiServer({ reply });
  const deepseek = await startFakeOpenAIServer({ reply });
  return {
    env: {
      MAESTRO_STRATEGIC_MODEL: 'gemini:gemini-2.5-pro',
      MAESTRO_TACTICAL_MODEL: 'deepseek:deepseek-chat',
      MAESTRO_GEMINI_BASE_URL: gemini.baseUrl,
      MAESTRO_DEEPSEEK_BASE_URL: deepseek.openaiBaseUrl,
      GEMINI_API_KEY: 'fake-server-needs-no-key',
      DEEPSEEK_API_KEY: 'fake-server-needs-no-key',
      MAESTRO_PROVIDER_FORWARD_INTENT: 'true',
    },
    describe: [
      `  strategic: gemini:gemini-2.5-pro through @google/genai → fake Gemini server ${gemini.baseUrl}`,
      `  tactical:  deepseek:deepseek-chat through the openai SDK → fake DeepSeek server ${deepseek.openaiBaseUrl}`,
      `  both fake servers replay ${scriptPath} over the real wire formats: NOT a model`,
    ],
    close: async () => {
      await gemini.close();
      await deepseek.close();
    },
  };
}

function describeEvent(e: SseEvent): string | undefined {
  let d: Record<string, unknown>;
  try {
    d = JSON.parse(e.data) as Record<string, unknown>;
  } catch {
    return `${e.event}: ${e.data}`;
  }
  const s = (k: string): string => String(d[k] ?? '');
  switch (e.event) {
    case 'history':
    case 'run.transitioned':
      return `state   ${s('fromState') || '(start)'} → ${s('toState') || s('state')}${s('eventType') ? `   (on ${s('eventType')})` : ''}`;
    case 'run.started':
      return `run     started (${s('definitionName')})`;
    case 'activity.requested':
      return `work    activity "${s('activity')}" requested for state ${s('state')} (attempt ${s('attempt')})`;
    case 'work.step':
      return `agent   [${s('subtaskId')} on ${s('executorId')}] step ${s('step')} ${s('kind')}${d['tool'] ? ` ${s('tool')}` : ''}${d['ok'] === false ? ' ✗' : ''}: ${s('summary').split('\n')[0]!.slice(0, 100)}`;
    case 'work.finished':
      return `agent   subtask ${s('subtaskId')} ${d['ok'] ? 'succeeded' : 'FAILED'} on ${s('executorId')}${d['commitSha'] ? ` — commit ${s('commitSha').slice(0, 10)}` : ''}${d['failureReason'] ? ` — ${s('failureReason')}` : ''}`;
    case 'task.updated':
      return `task    ${s('status')}${d['reason'] ? ` — ${s('reason')}` : ''}`;
    case 'escalation.raised':
      return `escal.  subtask ${s('subtaskId')} escalated to the strategic model (${s('reason')})`;
    case 'escalation.decided':
      return `escal.  decision for ${s('subtaskId')}: ${s('decision')}${d['reason'] ? ` — ${s('reason')}` : ''}`;
    case 'run.finished':
      return `run     finished: ${s('status')} in state ${s('state')}${d['error'] ? ` — ${JSON.stringify(d['error'])}` : ''}`;
    default:
      return undefined;
  }
}

/**
 * What the executor said at start about the sandbox its agents' commands and test gates run in
 * (its `command sandbox: …` log line): bubblewrap with how each limit is enforced, or the warning
 * that commands are refused or unsandboxed.
 */
function sandboxLine(executorLog: string): string {
  const lines = existsSync(executorLog) ? readFileSync(executorLog, 'utf8').split('\n') : [];
  for (const line of lines) {
    let entry: { msg?: unknown; network?: unknown; limits?: Record<string, unknown> };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    if (typeof entry.msg !== 'string' || !entry.msg.startsWith('command sandbox')) continue;
    const limits = entry.limits ? Object.entries(entry.limits).map(([name, how]) => `${name} ${String(how).split(' (')[0]}`).join(', ') : '';
    return `commands: ${entry.msg}${entry.network ? `, network ${String(entry.network)}` : ''}${limits ? `; limits: ${limits}` : ''}`;
  }
  return `commands: the executor did not say which sandbox it uses (see ${executorLog})`;
}

/** `Authorization: Bearer <key>`: every /v1 route of the gateway asks for a key. */
function bearer(apiKey: string): Record<string, string> {
  return { authorization: `Bearer ${apiKey}` };
}

async function postJson(url: string, apiKey: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, { method: 'POST', headers: { ...bearer(apiKey), 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`POST ${url}: HTTP ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function getJson(url: string, apiKey: string): Promise<Record<string, unknown>> {
  const res = await fetch(url, { headers: bearer(apiKey) });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Runs git hardened (`safeGitArgs`): no hook or command-running config of the repository runs. */
function git(repo: string, ...args: string[]): string {
  return execFileSync('git', safeGitArgs(args), { cwd: repo, encoding: 'utf8', env: safeGitEnv(process.env) }).trim();
}

/**
 * Runs `npm test` on `branch` in a temporary worktree (the user's checkout is not touched) and
 * removes the worktree after.
 */
function testsOnBranch(repo: string, branch: string): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'maestro-demo-tests-'));
  try {
    git(repo, 'worktree', 'add', '-q', '--detach', dir, branch);
    const run = spawnSync('npm', ['test'], { cwd: dir, encoding: 'utf8' });
    return { status: run.status, output: `${run.stdout}${run.stderr}` };
  } finally {
    spawnSync('git', safeGitArgs(['worktree', 'remove', '--force', dir]), { cwd: repo, env: safeGitEnv(process.env) });
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Copies the sample repository to a temp dir and makes it a git repository with one commit. */
export function prepareSampleRepo(root: string): { repo: string; baseSha: string } {
  const repo = mkdtempSync(join(tmpdir(), 'maestro-demo-repo-'));
  cpSync(join(root, 'examples', 'sample-repo'), repo, { recursive: true });
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, '-c', 'user.name=CodeMaestro Demo', '-c', 'user.email=demo@codemaestro.invalid', 'add', '-A');
  git(repo, '-c', 'user.name=CodeMaestro Demo', '-c', 'user.email=demo@codemaestro.invalid', 'commit', '-q', '-m', 'Initial sample repository');
  return { repo, baseSha: git(repo, 'rev-parse', 'HEAD') };
}

/** Creates a database on the server and returns its URL. */
export async function createDatabase(serverUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops a database created by {@link createDatabase}. */
export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** Runs the demo; resolves to true when the task succeeded with passing tests and a commit. */
export async function runDemo(options: DemoOptions): Promise<boolean> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const root = resolve(options.root);
  const id = randomUUID().replace(/-/g, '').slice(0, 8);
  const namespace = `demo${id}`;
  const dbName = `maestro_demo_${id}`;
  const logDir = join(root, '.demo', 'logs', id);
  const scenario = DemoScenarios[options.scenario ?? 'default'];
  const scriptPath = join(root, 'examples', 'scripts', scenario.script);

  out(`CodeMaestro demo${options.scenario && options.scenario !== 'default' ? ` — scenario "${options.scenario}"` : ''}`);
  const wire = options.wire === true ? await startWireFakes(scriptPath) : undefined;
  if (wire) {
    out('  models: the real gemini and deepseek adapters, talking to local fake servers');
    wire.describe.forEach((line) => out(line));
  } else {
    out(`  models: scripted — replies replayed from ${scriptPath}; no model is asked`);
  }
  const { repo, baseSha } = prepareSampleRepo(root);
  out(`  repository: copy of examples/sample-repo at ${repo}`);
  const databaseUrl = await createDatabase(options.postgresUrl, dbName);
  out(`  database: ${dbName}; NATS namespace: ${namespace}; service logs: ${logDir}`);

  const cluster = new LocalCluster({
    root,
    logDir,
    env: {
      MAESTRO_NATS_URL: options.natsUrl,
      MAESTRO_NATS_NAMESPACE: namespace,
      MAESTRO_DATABASE_URL: databaseUrl,
      MAESTRO_REDIS_URL: options.redisUrl,
      MAESTRO_LOCK_KEY_PREFIX: `maestro:${namespace}:lock:`,
      MAESTRO_STRATEGIC_MODEL: 'scripted',
      MAESTRO_TACTICAL_MODEL: 'scripted',
      MAESTRO_SCRIPT_PATH: scriptPath,
      MAESTRO_LOG_LEVEL: 'info',
      // prepareSampleRepo copies the sample under the temp directory.
      MAESTRO_REPO_ROOTS: tmpdir(),
      ...(wire?.env ?? {}),
    },
  });
  let ok = false;
  try {
    await cluster.allocatePorts();
    for (const name of MigratingServices) await cluster.migrate(name);
    out(`${time()} migrations applied (${MigratingServices.join(', ')})`);
    for (const name of ServiceNames) {
      if (name === 'executor') {
        const count = options.executors ?? 2;
        for (let i = 1; i <= count; i++) {
          const addr = i === 1 ? cluster.addresses.get('executor')! : `127.0.0.1:${await freePort()}`;
          const proc = await cluster.start('executor', {
            label: `executor-${i}`,
            extraEnv: { MAESTRO_EXECUTOR_GRPC_ADDR: addr, MAESTRO_EXECUTOR_ID: `executor-${i}` },
          });
          out(`${time()} started executor-${i} (pid ${proc.pid}, gRPC ${addr})`);
        }
        continue;
      }
      const proc = await cluster.start(name);
      out(`${time()} started ${name} (pid ${proc.pid}, gRPC ${proc.grpcAddr})`);
    }
    const gateway = `http://127.0.0.1:${cluster.gatewayPort}`;
    out(`${time()} all services SERVING; gateway at ${gateway}`);
    // Authentication is on: the demo's requests carry the cluster's operator key, and one without is refused.
    const anonymous = await fetch(`${gateway}/v1/tasks`);
    if (anonymous.status !== 401) throw new Error(`the gateway answered a request without a key with HTTP ${anonymous.status}, not 401: authentication is off`);
    out(`${time()} authentication on: GET /v1/tasks without a key → HTTP 401; the demo sends the operator key`);
    out(`${time()} ${sandboxLine(join(logDir, 'executor-1.log'))}`);

    await postJson(`${gateway}/v1/memories`, cluster.apiKey, {
      project: 'sample-calculator',
      kind: 'project',
      content: 'Each helper lives in its own file under src/ with a node:test file under test/.',
      tags: ['layout'],
    });
    const goal = scenario.goal;
    const task = await postJson(`${gateway}/v1/tasks`, cluster.apiKey, { goal, repoPath: repo, project: 'sample-calculator' });
    const taskId = String(task['id']);
    const runId = String(task['runId']);
    out(`${time()} task ${taskId} submitted: "${goal}"`);
    out(`${time()} run ${runId} — following ${gateway}/v1/runs/${runId}/events`);

    const watchdog = AbortSignal.timeout(180_000);
    await readEventStream(
      `${gateway}/v1/runs/${runId}/events`,
      (event) => {
        const line = describeEvent(event);
        if (line) out(`${time()} ${line}`);
      },
      watchdog,
      bearer(cluster.apiKey),
    );

    // The run has ended; Orion learns it from the run's events, so the task may lag a moment.
    let finalTask = await getJson(`${gateway}/v1/tasks/${taskId}`, cluster.apiKey);
    for (let i = 0; i < 100 && !['succeeded', 'failed', 'cancelled'].includes(String(finalTask['status'])); i++) {
      await new Promise((r) => setTimeout(r, 100));
      finalTask = await getJson(`${gateway}/v1/tasks/${taskId}`, cluster.apiKey);
    }
    const run = await getJson(`${gateway}/v1/runs/${runId}`, cluster.apiKey);
    const history = (run['history'] as Array<Record<string, unknown>> | undefined) ?? [];
    const states = [String(history[0]?.['fromState'] ?? ''), ...history.map((h) => String(h['toState']))].filter(Boolean);
    const subtasks = (finalTask['subtasks'] as Array<Record<string, unknown>> | undefined) ?? [];
    const filesChanged = [...new Set(subtasks.flatMap((s) => (s['filesChanged'] as string[] | undefined) ?? []))].sort();
    // The work is on the task's branch (maestro/<task id>); the user's branch stays where it was.
    const delivery = finalTask['delivery'] as { mode?: string; branch?: string; sha?: string; delivered?: boolean; reason?: string } | null | undefined;
    const branch = delivery?.branch || `maestro/${taskId}`;
    const branchExists = spawnSync('git', safeGitArgs(['rev-parse', '--verify', '-q', `refs/heads/${branch}`]), { cwd: repo, env: safeGitEnv(process.env) }).status === 0;
    const commits = branchExists ? git(repo, 'log', '--format=%h %s', `${baseSha}..${branch}`) : '';
    const userUntouched = git(repo, 'rev-parse', 'HEAD') === baseSha && git(repo, 'status', '--porcelain') === '';
    const tests = branchExists ? testsOnBranch(repo, branch) : { status: null, output: `branch ${branch} does not exist` };
    const testSummary = tests.output.split('\n').filter((l) => /^# (tests|pass|fail)/.test(l)).join(', ');

    out('');
    out('Outcome');
    out(`  task status:    ${String(finalTask['status'])}${finalTask['failureReason'] ? ` — ${String(finalTask['failureReason'])}` : ''}`);
    out(`  states visited: ${states.join(' → ')}`);
    out(`  files changed:  ${filesChanged.join(', ') || '(none)'}`);
    out(`  review:         ${String(finalTask['reviewSummary'] ?? '')}`);
    out(`  delivery:       ${delivery ? `${delivery.mode ?? 'branch'}: ${branch} at ${(delivery.sha ?? '').slice(0, 12)}${delivery.reason ? ` — ${delivery.reason}` : ''}` : `(none recorded) ${branch}`}`);
    out(`  your branch:    ${userUntouched ? 'untouched (HEAD and working tree as before the task)' : 'CHANGED'}`);
    out(`  tests (npm test on ${branch}): ${tests.status === 0 ? 'PASS' : 'FAIL'} ${testSummary}`);
    out(`  commits created on ${branch}:\n${commits.split('\n').map((l) => `    ${l}`).join('\n')}`);
    const escalations = (finalTask['escalations'] as Array<Record<string, unknown>> | undefined) ?? [];
    out(`  escalations:    ${escalations.length === 0 ? '(none)' : ''}`);
    for (const e of escalations) {
      out(`    ${String(e['subtaskId'])} attempt ${String(e['attempt'])} (${String(e['reason'])}) → ${String(e['decision'])}: ${String(e['decisionReason']).split('\n')[0]!.slice(0, 120)}`);
    }
    const usage = finalTask['usage'] as { total?: Record<string, number>; byModel?: Array<Record<string, unknown>> } | null | undefined;
    if (usage?.total) {
      const t = usage.total;
      out(`  usage:          ${t['calls']} model calls, ${t['inputTokens']} input tokens (${t['cachedInputTokens']} cached), ${t['outputTokens']} output, $${Number(t['costUsd']).toFixed(4)}${t['scriptedCalls'] ? ` — ${t['scriptedCalls']} scripted (free)` : ''}`);
      for (const m of usage.byModel ?? []) out(`    ${String(m['model'])}: ${String(m['calls'])} calls, $${Number(m['costUsd']).toFixed(4)}`);
    } else {
      out(`  usage:          unavailable (${String(finalTask['usageError'] ?? 'no totals')})`);
    }
    out(wire ? `  (models: real adapters against fake servers replaying a script, not a model's answer)` : `  (models: scripted replay, not a model's answer)`);
    ok =
      finalTask['status'] === 'succeeded' &&
      tests.status === 0 &&
      commits.length > 0 &&
      userUntouched &&
      filesChanged.length > 0 &&
      (!scenario.expectEscalation || escalations.length > 0);
  } finally {
    await cluster.stopAll();
    await wire?.close();
    out(`${time()} services stopped`);
    if (!options.keep) {
      await dropDatabase(options.postgresUrl, dbName).catch(() => undefined);
      const bus = await connectBus({ url: options.natsUrl, name: 'demo-cleanup', logger: createSilentLogger(), namespace });
      for (const spec of Object.values(Streams)) await bus.jsm.streams.delete(bus.namespace.stream(spec.name)).catch(() => undefined);
      await bus.close();
      rmSync(repo, { recursive: true, force: true });
    }
  }
  out(ok ? 'DEMO PASSED' : 'DEMO FAILED');
  return ok;
}
