/**
 * Every environment variable the cluster commands (`up`, `down`, `run`, `ls` …) read, read once
 * in one place. The services read their own configuration; `maestro up` forwards them every
 * `MAESTRO_*` variable and provider key of the user's environment (see {@link forwardedEnv}).
 */

/** Provider keys: with none of them set, `maestro up` runs the scripted provider. */
export const ProviderKeyVariables = ['GEMINI_API_KEY', 'DEEPSEEK_API_KEY', 'OPENAI_API_KEY'] as const;

/** Defaults of the cluster commands, in one place. */
export const CliDefaults = {
  /** The gateway's URL when neither `--gateway`, `MAESTRO_GATEWAY_URL` nor a state file says. */
  gatewayUrl: 'http://127.0.0.1:8080',
  /** The gateway's port `maestro up` starts on. */
  gatewayPort: 8080,
  gatewayHost: '127.0.0.1',
  /** The state directory, relative to the workspace root. */
  stateDirName: '.maestro',
  /** The database `maestro up` uses (created when missing). */
  databaseUrl: 'postgres://postgres@127.0.0.1:5432/maestro',
  /** Executor processes `maestro up` (and `maestro demo`) start. */
  executors: 2,
  /** The most executors `--executors` accepts. */
  maxExecutors: 8,
  /** How long a stopped service gets between SIGTERM and SIGKILL (`maestro down --grace-seconds`, Ctrl-C of `up`). */
  stopGraceMs: 15_000,
  /** The largest `--grace-seconds` of `maestro down`. */
  maxGraceSeconds: 300,
  /** How long to wait for processes to vanish after SIGKILL. */
  killWaitMs: 5_000,
  /** How often a stop looks whether the processes are gone. */
  stopPollMs: 100,
  /** How long a service gets to answer SERVING, and the gateway its `/healthz`, at start-up. */
  readyTimeoutMs: 30_000,
  /** `maestro run`: how long after the run finished the task may take to reach a final status. */
  finalStatusTimeoutMs: 60_000,
  /** `maestro run`: how often the task is re-read while waiting for its final status. */
  finalStatusPollMs: 250,
} as const;

/** What the cluster commands read from the environment. */
export interface CliEnv {
  /** `MAESTRO_GATEWAY_URL`: the gateway the client commands talk to. */
  gatewayUrl: string | undefined;
  /** `MAESTRO_API_KEY`: the key the client commands send to the gateway. */
  apiKey: string | undefined;
  /** `MAESTRO_STATE_DIR`: where `maestro up` keeps its state file and logs. */
  stateDir: string | undefined;
  /** `MAESTRO_GATEWAY_PORT`: the port `maestro up` starts the gateway on. */
  gatewayPort: string | undefined;
  /** `MAESTRO_GATEWAY_HOST`: the address the gateway listens on. */
  gatewayHost: string | undefined;
  /** `MAESTRO_DATABASE_URL`: the database `maestro up` creates when missing and gives the services. */
  databaseUrl: string | undefined;
  /** True when a strategic or tactical model is configured explicitly. */
  modelsConfigured: boolean;
  /** True when any of {@link ProviderKeyVariables} is set. */
  providerKeySet: boolean;
  /** `MAESTRO_SCRIPT_PATH`, when set. */
  scriptPath: string | undefined;
  /** Every `MAESTRO_*` variable and provider key, for the services. */
  forwarded: Readonly<Record<string, string>>;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** The variables `maestro up` hands to the services: every `MAESTRO_*` one and the provider keys. */
export function forwardedEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (name.startsWith('MAESTRO_') || (ProviderKeyVariables as readonly string[]).includes(name)) out[name] = value;
  }
  return out;
}

/** Reads the cluster commands' environment once; the result is frozen. */
export function readCliEnv(env: NodeJS.ProcessEnv = process.env): CliEnv {
  return Object.freeze({
    gatewayUrl: nonEmpty(env['MAESTRO_GATEWAY_URL']),
    apiKey: nonEmpty(env['MAESTRO_API_KEY']),
    stateDir: nonEmpty(env['MAESTRO_STATE_DIR']),
    gatewayPort: nonEmpty(env['MAESTRO_GATEWAY_PORT']),
    gatewayHost: nonEmpty(env['MAESTRO_GATEWAY_HOST']),
    databaseUrl: nonEmpty(env['MAESTRO_DATABASE_URL']),
    modelsConfigured: nonEmpty(env['MAESTRO_STRATEGIC_MODEL']) !== undefined || nonEmpty(env['MAESTRO_TACTICAL_MODEL']) !== undefined,
    providerKeySet: ProviderKeyVariables.some((name) => nonEmpty(env[name]) !== undefined),
    scriptPath: nonEmpty(env['MAESTRO_SCRIPT_PATH']),
    forwarded: Object.freeze(forwardedEnv(env)),
  });
}
