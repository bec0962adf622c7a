/**
 * End-to-end harness: the whole cluster as separate processes (built `dist/`), on the real
 * NATS, PostgreSQL and Redis, in a namespace and database of its own.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Streams } from '@maestro/contracts';
import { connectBus, type Bus } from '@maestro/bus';
import { createSilentLogger } from '@maestro/runtime';
import { LocalCluster, MigratingServices, ServiceNames, createDatabase, dropDatabase, freePort, prepareSampleRepo } from '@maestro/cli';
import { testServerUrl, testServers } from '@maestro/testing';

export const repoRoot = resolve(__dirname, '../..');

/**
 * How long each service of a test cluster may take to serve: eight cold Node start-ups and the
 * migrations, maybe while another test's cluster starts too (Jest runs two files at once).
 */
export const E2E_READY_TIMEOUT_MS = 90_000;

/** A running cluster and what a test needs to talk to it. */
export interface E2eCluster {
  cluster: LocalCluster;
  gateway: string;
  /** The cluster's operator key (scope admin): {@link postJson} and {@link getJson} send it to `gateway`. */
  apiKey: string;
  repo: string;
  baseSha: string;
  /** A bus connection in the cluster's namespace, for watching events. */
  bus: Bus;
  /** Where each service process writes its log (`<label>.log`). */
  logDir: string;
  stop(): Promise<void>;
}

/** Starts every service (with `executors` executor processes) on a fresh sample repository. */
export async function startE2eCluster(options: {
  scriptPath: string;
  executors: number;
  executorConcurrency?: number;
  /** Extra environment for every service (e.g. `MAESTRO_OTLP_ENDPOINT`). */
  env?: Record<string, string>;
  /** A password in the services' database URL (the test server trusts any), e.g. a canary. @default none */
  databasePassword?: string;
  /**
   * Servers to run on instead of the machine's shared ones (the fault tests' private servers).
   * @default testServers (NATS, Redis) and testServerUrl() (PostgreSQL)
   */
  servers?: { natsUrl: string; redisUrl: string; postgresUrl: string };
}): Promise<E2eCluster> {
  const servers = options.servers ?? { natsUrl: testServers.natsUrl, redisUrl: testServers.redisUrl, postgresUrl: testServerUrl() };
  const id = randomUUID().replace(/-/g, '').slice(0, 8);
  const namespace = `e2e${id}`;
  const dbName = `maestro_e2e_${id}`;
  const databaseUrl = withPassword(await createDatabase(servers.postgresUrl, dbName), options.databasePassword);
  const { repo, baseSha } = prepareSampleRepo(repoRoot);
  const logDir = join(repoRoot, '.demo', 'e2e-logs', id);
  // Executor ids repeat across clusters (executor-1 …) and each executor clears its own
  // worktree directory at start: clusters running at once must not share a worktree root.
  const worktreeRoot = mkdtempSync(join(tmpdir(), 'maestro-e2e-worktrees-'));
  const cluster = new LocalCluster({
    root: repoRoot,
    logDir,
    env: {
      MAESTRO_NATS_URL: servers.natsUrl,
      MAESTRO_NATS_NAMESPACE: namespace,
      MAESTRO_DATABASE_URL: databaseUrl,
      MAESTRO_REDIS_URL: servers.redisUrl,
      MAESTRO_LOCK_KEY_PREFIX: `maestro:${namespace}:lock:`,
      MAESTRO_STRATEGIC_MODEL: 'scripted',
      MAESTRO_TACTICAL_MODEL: 'scripted',
      MAESTRO_SCRIPT_PATH: options.scriptPath,
      MAESTRO_LOG_LEVEL: 'debug',
      MAESTRO_EXECUTOR_WORKTREE_ROOT: worktreeRoot,
      // prepareSampleRepo copies the sample under the temp directory.
      MAESTRO_REPO_ROOTS: tmpdir(),
      ...options.env,
    },
  });
  const bus = await connectBus({ url: servers.natsUrl, name: 'e2e-watch', logger: createSilentLogger(), namespace });
  await bus.ensureStreams();
  const stop = async (): Promise<void> => {
    await cluster.stopAll();
    for (const spec of Object.values(Streams)) await bus.jsm.streams.delete(bus.namespace.stream(spec.name)).catch(() => undefined);
    await bus.close();
    await dropDatabase(servers.postgresUrl, dbName);
    rmSync(repo, { recursive: true, force: true });
    rmSync(worktreeRoot, { recursive: true, force: true });
  };
  try {
    await cluster.allocatePorts();
    for (const name of MigratingServices) await cluster.migrate(name);
    for (const name of ServiceNames) {
      if (name !== 'executor') {
        await cluster.start(name, { readyTimeoutMs: E2E_READY_TIMEOUT_MS });
        continue;
      }
      for (let i = 1; i <= options.executors; i++) {
        const addr = i === 1 ? cluster.addresses.get('executor')! : `127.0.0.1:${await freePort()}`;
        await cluster.start('executor', {
          readyTimeoutMs: E2E_READY_TIMEOUT_MS,
          label: `executor-${i}`,
          extraEnv: {
            MAESTRO_EXECUTOR_GRPC_ADDR: addr,
            MAESTRO_EXECUTOR_ID: `executor-${i}`,
            MAESTRO_EXECUTOR_CONCURRENCY: String(options.executorConcurrency ?? 2),
          },
        });
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const gateway = `http://127.0.0.1:${cluster.gatewayPort}`;
  apiKeysByGateway.set(gateway, cluster.apiKey);
  return { cluster, gateway, apiKey: cluster.apiKey, repo, baseSha, bus, logDir, stop };
}

/**
 * The operator key of each gateway a test started, by origin: the helpers below authenticate
 * with it, so a test states credentials only where they are what it tests.
 */
const apiKeysByGateway = new Map<string, string>();

/** `Authorization: Bearer <key>` for the gateway `url` points at, when the harness started it. */
export function authHeaders(url: string): Record<string, string> {
  const key = apiKeysByGateway.get(new URL(url).origin);
  return key === undefined ? {} : { authorization: `Bearer ${key}` };
}

/** `url` with `password` in its user information (the user defaulting to postgres); `url` itself without one. */
function withPassword(url: string, password: string | undefined): string {
  if (password === undefined) return url;
  const parsed = new URL(url);
  if (parsed.username === '') parsed.username = 'postgres';
  parsed.password = password;
  return parsed.toString();
}

/** POSTs JSON and returns the parsed body, failing the test on a non-2xx status. */
export async function postJson(url: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, { method: 'POST', headers: { ...authHeaders(url), 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`POST ${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** GETs JSON. */
export async function getJson(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(url, { headers: authHeaders(url) });
  return (await res.json()) as Record<string, unknown>;
}

/** Polls `GET /v1/tasks/:id` until the task reaches a final status. */
export async function waitForTaskEnd(gateway: string, taskId: string, timeoutMs = 120_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const task = await getJson(`${gateway}/v1/tasks/${taskId}`);
    if (['succeeded', 'failed', 'cancelled'].includes(String(task['status']))) return task;
    if (Date.now() > deadline) throw new Error(`task ${taskId} still ${String(task['status'])} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Writes the scripted models' replies for a cluster (`MAESTRO_SCRIPT_PATH`, a ScriptedProvider
 * script: `{ description, rules }`) to a temp file and returns its path.
 */
export function writeE2eScript(description: string, rules: readonly unknown[]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'maestro-e2e-script-')), 'script.json');
  writeFileSync(path, JSON.stringify({ description, rules }));
  return path;
}
