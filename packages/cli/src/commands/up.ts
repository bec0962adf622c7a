/**
 * `maestro up`: the local cluster. Starts PostgreSQL, Redis and NATS when they are down
 * (scripts/ensure-servers.sh), creates the database when missing, applies the migrations,
 * starts the seven services as processes (each in its own process group, logs in the state
 * directory), records them in the state file and prints the viewer's and the gateway's URL.
 * In the foreground until Ctrl-C, SIGTERM or SIGHUP (then it stops them, clients first; a
 * watchdog stops them should it die any other way); with `--detach` it
 * returns once every service is serving, its last line `gateway: http://<host>:<port>`.
 * Without a provider key the models are the scripted provider, and it says so.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCodes, UsageError, flag, positiveIntOption, type CommandSpec } from '../args.js';
import { CliDefaults, ProviderKeyVariables, type CliEnv } from '../cli-env.js';
import {
  readClusterState,
  apiKeyFileOf,
  removeApiKeyFile,
  removeClusterState,
  runningProcesses,
  stateDirOf,
  stateFileOf,
  writeApiKeyFile,
  writeClusterState,
  type ClusterProcessState,
  type ClusterState,
} from '../cluster-state.js';
import { databaseNameOf, ensureDatabase } from '../database.js';
import { canListen, freePort } from '../free-port.js';
import { LocalCluster, MigratingServices, ServiceNames, type ServiceProcess } from '../local-cluster.js';
import { runCommand, say, type CommandContext } from './context.js';

const usage = `usage: maestro up [--detach] [--executors N] [--skip-servers]

  Starts the local cluster: PostgreSQL, Redis and NATS if they are down, the database (created
  if missing) and its migrations, then the seven services as processes. Prints the viewer URL
  and stays in the foreground until Ctrl-C, which stops what it started.

  --detach         leave the cluster running in the background and return once every service
                   is serving; the last line is \`gateway: http://<host>:<port>\`. \`maestro down\` stops it
  --executors N    executor processes (1-${CliDefaults.maxExecutors}, default ${CliDefaults.executors})
  --skip-servers   do not run scripts/ensure-servers.sh (your servers are elsewhere)

  environment: MAESTRO_GATEWAY_PORT (default ${CliDefaults.gatewayPort}), MAESTRO_GATEWAY_HOST,
  MAESTRO_DATABASE_URL (default ${CliDefaults.databaseUrl}), MAESTRO_STATE_DIR
  (default <workspace>/${CliDefaults.stateDirName}: state file and logs), MAESTRO_NATS_URL, MAESTRO_REDIS_URL,
  MAESTRO_NATS_NAMESPACE, … — every MAESTRO_* variable and ${ProviderKeyVariables.join(', ')} reach the services.
  MAESTRO_REPO_ROOTS: colon-separated directories repositories must live in (\`maestro run --repo\`
  outside them is refused); default: the temp directory and the directory \`up\` was started in.
  Models: with none of those keys set (and no MAESTRO_STRATEGIC_MODEL / MAESTRO_TACTICAL_MODEL),
  the scripted provider replays examples/scripts/demo-script.json — no model is asked.`;

/**
 * The repository roots of a cluster `up` starts when `MAESTRO_REPO_ROOTS` is not set: the temp
 * directory (where `maestro demo` and the samples put repositories) and the directory `up` was
 * started in.
 */
export function defaultRepoRoots(cwd: string): string {
  return [...new Set([tmpdir(), cwd])].join(':');
}

/** The argument spec of `maestro up`. */
export const upSpec: CommandSpec = {
  name: 'up',
  usage,
  options: { detach: { type: 'boolean', short: 'd' }, executors: { type: 'string' }, 'skip-servers': { type: 'boolean' } },
  positionals: [],
};

/** Which models the cluster runs, and the variables that say so. */
export interface ModelChoice {
  scripted: boolean;
  /** For the state file and the banner. */
  description: string;
  env: Record<string, string>;
}

/**
 * The models: what the user configured, else the README's defaults when a provider key is set,
 * else the scripted provider replaying the demo script.
 */
export function chooseModels(env: Pick<CliEnv, 'modelsConfigured' | 'providerKeySet' | 'scriptPath' | 'forwarded'>, root: string): ModelChoice {
  const scriptPath = env.scriptPath ?? join(root, 'examples', 'scripts', 'demo-script.json');
  if (env.modelsConfigured) {
    const strategic = env.forwarded['MAESTRO_STRATEGIC_MODEL'] ?? '(default)';
    const tactical = env.forwarded['MAESTRO_TACTICAL_MODEL'] ?? '(default)';
    const scripted = strategic === 'scripted' || tactical === 'scripted';
    return { scripted, description: `strategic ${strategic}, tactical ${tactical}${scripted ? ` (scripted replays ${scriptPath})` : ''}`, env: scripted ? { MAESTRO_SCRIPT_PATH: scriptPath } : {} };
  }
  if (env.providerKeySet) return { scripted: false, description: 'the defaults: strategic gemini:gemini-2.5-pro, tactical deepseek:deepseek-chat', env: {} };
  return {
    scripted: true,
    description: `scripted (${scriptPath})`,
    env: { MAESTRO_STRATEGIC_MODEL: 'scripted', MAESTRO_TACTICAL_MODEL: 'scripted', MAESTRO_SCRIPT_PATH: scriptPath },
  };
}

/** The gateway port from `MAESTRO_GATEWAY_PORT`, checked. */
export function gatewayPortOf(env: Pick<CliEnv, 'gatewayPort'>): number {
  if (env.gatewayPort === undefined) return CliDefaults.gatewayPort;
  const port = Number(env.gatewayPort);
  if (!/^\d+$/.test(env.gatewayPort) || port < 1 || port > 65_535) {
    throw new UsageError(`MAESTRO_GATEWAY_PORT: expected a port number from 1 to 65535, got "${env.gatewayPort}"`);
  }
  return port;
}

/** This process's script as /proc shows it, so `down` can tell it is still us. */
function ownEntry(): string {
  try {
    return readFileSync('/proc/self/cmdline', 'utf8').split('\0')[1] ?? process.argv[1] ?? '';
  } catch {
    return process.argv[1] ?? '';
  }
}

function toState(proc: ServiceProcess): ClusterProcessState {
  return { label: proc.label, pid: proc.pid, entry: proc.entry, grpcAddr: proc.grpcAddr, metricsPort: proc.metricsPort, logFile: proc.logFile };
}

function time(): string {
  return new Date().toISOString().slice(11, 19);
}

async function waitHealthz(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the gateway does not answer ${url}/healthz after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Runs `maestro up`. */
export function runUp(argv: readonly string[], ctx: CommandContext): Promise<number> {
  return runCommand(upSpec, argv, ctx, async (args) => {
    const detach = flag(args, 'detach');
    const executors = positiveIntOption(args, 'executors', CliDefaults.maxExecutors) ?? CliDefaults.executors;
    const port = gatewayPortOf(ctx.env);
    const host = ctx.env.gatewayHost ?? CliDefaults.gatewayHost;
    const databaseUrl = ctx.env.databaseUrl ?? CliDefaults.databaseUrl;
    try {
      databaseNameOf(databaseUrl);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const stateDir = stateDirOf(ctx.env, ctx.root);

    const previous = readClusterState(stateDir);
    if (previous) {
      const alive = runningProcesses(previous);
      if (alive.length > 0) {
        throw new Error(
          `a cluster started by \`maestro up\` is still running (gateway ${previous.gatewayUrl}, ${alive.length} processes, state ${stateFileOf(stateDir)}); stop it with \`maestro down\` first, or use another MAESTRO_STATE_DIR and MAESTRO_GATEWAY_PORT`,
        );
      }
      removeClusterState(stateDir);
      say(ctx, `removed the state of a cluster that no longer runs (${stateFileOf(stateDir)})`);
    }
    const missing = ServiceNames.filter((name) => !existsSync(join(ctx.root, 'services', name, 'dist', 'main.js')));
    if (missing.length > 0) throw new Error(`not built: ${missing.join(', ')} (no dist/main.js); run \`make build\` first`);
    if (!(await canListen(port, host))) {
      throw new Error(`port ${port} on ${host} is taken by another program; set MAESTRO_GATEWAY_PORT to a free port`);
    }

    if (!flag(args, 'skip-servers')) {
      const servers = spawnSync('bash', [join(ctx.root, 'scripts', 'ensure-servers.sh')], { encoding: 'utf8' });
      for (const line of `${servers.stdout ?? ''}${servers.stderr ?? ''}`.split('\n').filter(Boolean)) say(ctx, line);
      if (servers.status !== 0) throw new Error(`scripts/ensure-servers.sh failed (exit ${servers.status ?? servers.signal}); see above`);
    }
    const created = await ensureDatabase(databaseUrl);
    say(ctx, `${time()} database ${databaseNameOf(databaseUrl)} ${created ? 'created' : 'found'}`);

    const models = chooseModels(ctx.env, ctx.root);
    if (models.scripted) {
      say(ctx, '!!! MODELS ARE SCRIPTED: no provider key is set (GEMINI_API_KEY, DEEPSEEK_API_KEY, OPENAI_API_KEY),');
      say(ctx, `!!! so every model reply is replayed from ${models.env['MAESTRO_SCRIPT_PATH']}. No model is asked;`);
      say(ctx, '!!! only the demo goal gets meaningful replies. Set the keys (see README "Real models") for real models.');
    } else {
      say(ctx, `models: ${models.description}`);
    }

    const logDir = join(stateDir, 'logs');
    const cluster = new LocalCluster({
      root: ctx.root,
      logDir,
      // Each service in a process group of its own: a Ctrl-C at the terminal reaches only this
      // process, which stops them in order; `down` signals whole groups. In the foreground a
      // watchdog stops them should this process die without doing so (SIGKILL, a crash).
      detached: true,
      watchdog: !detach,
      env: {
        ...ctx.env.forwarded,
        MAESTRO_DATABASE_URL: databaseUrl,
        MAESTRO_GATEWAY_HOST: host,
        MAESTRO_EXECUTOR_WORKTREE_ROOT: ctx.env.forwarded['MAESTRO_EXECUTOR_WORKTREE_ROOT'] ?? join(stateDir, 'worktrees'),
        MAESTRO_REPO_ROOTS: ctx.env.forwarded['MAESTRO_REPO_ROOTS'] ?? defaultRepoRoots(ctx.cwd),
        ...models.env,
      },
    });
    const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    const gatewayUrl = `http://${urlHost.includes(':') ? `[${urlHost}]` : urlHost}:${port}`;
    const state: ClusterState = {
      version: 1,
      mode: detach ? 'detached' : 'foreground',
      startedAt: new Date().toISOString(),
      gatewayUrl,
      viewerUrl: `${gatewayUrl}/`,
      models: models.description,
      database: databaseNameOf(databaseUrl),
      logDir,
      ...(detach ? {} : { supervisor: { label: 'maestro up', pid: process.pid, entry: ownEntry(), grpcAddr: '', logFile: '' } }),
      processes: [],
    };
    // Written before the first process starts and after each, so `maestro down` can stop even
    // a cluster whose start-up was cut short.
    writeClusterState(stateDir, state);
    // The gateway needs a key on every /v1 route: the operator key goes where the CLI finds it.
    writeApiKeyFile(stateDir, cluster.apiKey);
    const checkInterrupt = (): void => {
      if (ctx.interrupt.aborted) throw new Error('interrupted during start-up; what had started is stopped again');
    };
    const record = (proc: ServiceProcess): void => {
      state.processes.push(toState(proc));
      writeClusterState(stateDir, state);
      say(ctx, `${time()} started ${proc.label} (pid ${proc.pid}, gRPC ${proc.grpcAddr}, log ${proc.logFile})`);
    };
    const stop = async (): Promise<void> => {
      await cluster.stopAll();
      removeClusterState(stateDir);
      removeApiKeyFile(stateDir);
    };
    try {
      await cluster.allocatePorts();
      cluster.gatewayPort = port;
      for (const name of MigratingServices) {
        checkInterrupt();
        await cluster.migrate(name);
      }
      say(ctx, `${time()} migrations applied (${MigratingServices.join(', ')})`);
      for (const name of ServiceNames) {
        checkInterrupt();
        if (name !== 'executor') {
          record(await cluster.start(name));
          continue;
        }
        for (let i = 1; i <= executors; i++) {
          const addr = i === 1 ? cluster.addresses.get('executor')! : `127.0.0.1:${await freePort()}`;
          record(await cluster.start('executor', { label: `executor-${i}`, extraEnv: { MAESTRO_EXECUTOR_GRPC_ADDR: addr, MAESTRO_EXECUTOR_ID: `executor-${i}` } }));
        }
      }
      await waitHealthz(gatewayUrl, CliDefaults.readyTimeoutMs);
      checkInterrupt();
    } catch (err) {
      await stop();
      throw err;
    }

    say(ctx, `${time()} all services serving; logs in ${logDir}`);
    say(ctx, `models: ${models.scripted ? `SCRIPTED — ${models.description}; no model is asked` : models.description}`);
    say(ctx, `viewer: ${state.viewerUrl}`);
    say(ctx, `api key: the operator key (scope admin) is in ${apiKeyFileOf(stateDir)}; the CLI sends it to this gateway, the viewer asks for it`);
    if (detach) {
      say(ctx, 'stop it with `maestro down`');
      say(ctx, `gateway: ${gatewayUrl}`);
      cluster.release();
      return ExitCodes.ok;
    }
    say(ctx, `gateway: ${gatewayUrl}`);
    say(ctx, 'Ctrl-C stops the cluster');

    const crashed = new Promise<ServiceProcess>((resolveCrash) => {
      for (const proc of cluster.running) void proc.exited.then(() => resolveCrash(proc));
    });
    const interrupted = new Promise<void>((resolveInterrupt) => {
      if (ctx.interrupt.aborted) resolveInterrupt();
      ctx.interrupt.addEventListener('abort', () => resolveInterrupt(), { once: true });
    });
    const ended = await Promise.race([crashed, interrupted.then(() => undefined)]);
    if (ended !== undefined) say(ctx, `${time()} ${ended.label} exited unexpectedly; see ${ended.logFile}. Stopping the cluster`);
    else say(ctx, `${time()} stopping the cluster`);
    await stop();
    say(ctx, `${time()} stopped`);
    return ended === undefined ? ExitCodes.ok : ExitCodes.failed;
  });
}
