/**
 * Typed configuration from the environment. A service declares every variable it reads once
 * (name, type, default, one-line doc), `loadConfig` validates them all at start and returns a
 * frozen object, and a bad or missing value stops the service with a message naming the
 * variable. Nothing else reads `process.env`.
 *
 * @example
 * const spec = {
 *   natsUrl: env.url('MAESTRO_NATS_URL', { default: 'nats://127.0.0.1:4222', doc: 'NATS server' }),
 *   port: env.port('MAESTRO_GATEWAY_PORT', { default: 8080, doc: 'HTTP port' }),
 * };
 * const config = loadConfig(spec); // Readonly<{ natsUrl: string; port: number }>
 */
import { redactUrl } from './redact-url.js';

/** One environment variable: how to read it and what it means. */
export interface EnvVar<T> {
  readonly name: string;
  readonly doc: string;
  readonly default: T | undefined;
  /** Parses the raw text; throws an Error whose message says what is wrong. */
  readonly parse: (raw: string) => T;
}

/** Options shared by every variable kind. */
export interface EnvVarOptions<T> {
  /** Used when the variable is unset or empty; without it the variable is required. */
  default?: T;
  /** One line on what the variable controls. */
  doc: string;
}

/** Thrown when the environment does not hold a valid configuration; names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: ReadonlyArray<{ variable: string; problem: string }>) {
    super(
      `invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.problem}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

function define<T>(name: string, options: EnvVarOptions<T>, parse: (raw: string) => T): EnvVar<T> {
  return { name, doc: options.doc, default: options.default, parse };
}

function parseInteger(raw: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(raw.trim())) throw new Error(`expected an integer, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new Error(`expected ${min}..${max}, got ${value}`);
  return value;
}

/** Builders for each kind of variable. */
export const env = {
  string: (name: string, options: EnvVarOptions<string>) => define(name, options, (raw) => raw),
  int: (name: string, options: EnvVarOptions<number> & { min?: number; max?: number }) =>
    define(name, options, (raw) =>
      parseInteger(raw, options.min ?? Number.MIN_SAFE_INTEGER, options.max ?? Number.MAX_SAFE_INTEGER),
    ),
  port: (name: string, options: EnvVarOptions<number>) =>
    define(name, options, (raw) => parseInteger(raw, 0, 65535)),
  bool: (name: string, options: EnvVarOptions<boolean>) =>
    define(name, options, (raw) => {
      const v = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      throw new Error(`expected true or false, got "${raw}"`);
    }),
  /**
   * A URL with one of the given protocols (for example `nats:`, `postgres:`). Errors quote it
   * with its credentials redacted: connection URLs carry passwords.
   */
  url: (name: string, options: EnvVarOptions<string> & { protocols?: readonly string[] }) =>
    define(name, options, (raw) => {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        throw new Error(`expected a URL, got "${redactUrl(raw)}"`);
      }
      if (options.protocols && !options.protocols.includes(url.protocol)) {
        throw new Error(`expected a ${options.protocols.join(' or ')} URL, got "${redactUrl(raw)}"`);
      }
      return raw;
    }),
  /** `host:port`, as gRPC servers bind and clients dial. Port 0 asks the OS for a free port. */
  hostPort: (name: string, options: EnvVarOptions<string>) =>
    define(name, options, (raw) => {
      const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(raw.trim());
      if (!match || Number(match[2]) > 65535) throw new Error(`expected host:port, got "${raw}"`);
      return raw.trim();
    }),
  oneOf: <const V extends string>(name: string, values: readonly V[], options: EnvVarOptions<V>) =>
    define(name, options, (raw) => {
      if (!(values as readonly string[]).includes(raw)) {
        throw new Error(`expected one of ${values.join(', ')}, got "${raw}"`);
      }
      return raw as V;
    }),
  /** Text matching a pattern; `description` says what is allowed, for the error message. */
  matching: (name: string, pattern: RegExp, description: string, options: EnvVarOptions<string>) =>
    define(name, options, (raw) => {
      if (!pattern.test(raw)) throw new Error(`expected ${description}, got "${raw}"`);
      return raw;
    }),
  /** A comma-separated list. */
  list: (name: string, options: EnvVarOptions<string[]>) =>
    define(name, options, (raw) =>
      raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    ),
} as const;

/** A set of variables keyed by the config property they fill. */
export type ConfigSpec = Record<string, EnvVar<unknown>>;

/** The config object a spec produces. */
export type ConfigOf<S extends ConfigSpec> = { readonly [K in keyof S]: S[K] extends EnvVar<infer T> ? T : never };

/**
 * Reads and validates every variable of `spec` from `source`, collecting all problems before
 * failing so an operator fixes them in one go.
 */
export function loadConfig<S extends ConfigSpec>(
  spec: S,
  source: Record<string, string | undefined> = process.env,
): ConfigOf<S> {
  const problems: Array<{ variable: string; problem: string }> = [];
  const out: Record<string, unknown> = {};
  for (const [key, variable] of Object.entries(spec)) {
    const raw = source[variable.name];
    if (raw === undefined || raw === '') {
      if (variable.default === undefined) {
        problems.push({ variable: variable.name, problem: `is required (${variable.doc})` });
      } else {
        out[key] = variable.default;
      }
      continue;
    }
    try {
      out[key] = variable.parse(raw);
    } catch (err) {
      problems.push({ variable: variable.name, problem: err instanceof Error ? err.message : String(err) });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(out) as ConfigOf<S>;
}

/** Markdown table of a spec's variables, for READMEs and `--help`. */
export function describeConfig(spec: ConfigSpec): string {
  const rows = Object.values(spec).map(
    (v) => `| \`${v.name}\` | ${v.default === undefined ? '(required)' : `\`${JSON.stringify(v.default)}\``} | ${v.doc} |`,
  );
  return ['| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

/** Variables every service reads, with the same names and defaults everywhere. */
export const commonEnv = {
  logLevel: env.oneOf('MAESTRO_LOG_LEVEL', ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], {
    default: 'info',
    doc: 'pino log level',
  }),
  natsUrl: env.url('MAESTRO_NATS_URL', {
    default: 'nats://127.0.0.1:4222',
    protocols: ['nats:', 'tls:', 'ws:', 'wss:'],
    doc: 'NATS server with JetStream',
  }),
  natsNamespace: env.matching('MAESTRO_NATS_NAMESPACE', /^[A-Za-z0-9_-]*$/, 'letters, digits, - and _', {
    default: '',
    doc: 'prefix for every NATS subject, stream and consumer (several installations on one NATS); empty in production',
  }),
  databaseUrl: env.url('MAESTRO_DATABASE_URL', {
    default: 'postgres://postgres@127.0.0.1:5432/postgres',
    protocols: ['postgres:', 'postgresql:'],
    doc: 'PostgreSQL connection URL',
  }),
  redisUrl: env.url('MAESTRO_REDIS_URL', {
    default: 'redis://127.0.0.1:6379',
    protocols: ['redis:', 'rediss:'],
    doc: 'Redis connection URL',
  }),
  otlpEndpoint: env.string('MAESTRO_OTLP_ENDPOINT', {
    default: '',
    doc: 'OTLP/HTTP traces endpoint (e.g. http://otel-collector:4318); empty disables export',
  }),
  metricsHost: env.string('MAESTRO_METRICS_HOST', {
    default: '127.0.0.1',
    doc: 'address the Prometheus /metrics endpoint binds (0.0.0.0 in a container)',
  }),
  // gRPC transport security, compiled by compileTransportSecurity at start and reloaded on rotation (grpc/tls/).
  grpcTlsCa: env.string('MAESTRO_GRPC_TLS_CA', {
    default: '',
    doc: 'PEM file of the CA that signs every service certificate (gRPC mTLS)',
  }),
  grpcTlsCert: env.string('MAESTRO_GRPC_TLS_CERT', {
    default: '',
    doc: "PEM file of this service's certificate; its URI SAN spiffe://maestro/<service> is its caller identity",
  }),
  grpcTlsKey: env.string('MAESTRO_GRPC_TLS_KEY', {
    default: '',
    doc: "PEM file of this service's private key",
  }),
  grpcTlsRefreshS: env.int('MAESTRO_GRPC_TLS_REFRESH_S', {
    default: 60,
    min: 1,
    max: 3600,
    doc: 'seconds between re-reads of the three MAESTRO_GRPC_TLS_* files, so rotated certificates are used without a restart (a broken rotation keeps the last good ones)',
  }),
  // NATS control-message signing, compiled once by busSigningFrom (@maestro/bus).
  busSigningKey: env.string('MAESTRO_BUS_SIGNING_KEY', {
    default: '',
    doc: 'shared secret (at least 32 bytes, from a Secret) that signs and verifies NATS messages: work, results, escalations and events',
  }),
  busUnsigned: env.bool('MAESTRO_BUS_UNSIGNED', {
    default: false,
    doc: 'publish and accept NATS messages without signatures, for local runs only (instead of MAESTRO_BUS_SIGNING_KEY)',
  }),
  grpcPlaintext: env.bool('MAESTRO_GRPC_PLAINTEXT', {
    default: false,
    doc: 'plaintext gRPC without caller identity, for local runs only (instead of the three MAESTRO_GRPC_TLS_* files)',
  }),
  grpcHealthPort: env.port('MAESTRO_GRPC_HEALTH_PORT', {
    default: 0,
    doc: 'extra plaintext port serving only grpc.health.v1, for kubelet gRPC probes (they cannot present a certificate); 0: off',
  }),
} as const;

/**
 * The Prometheus `/metrics` port of each service. One variable name, a different default per
 * service (9460 + the gRPC port's last digit) so all seven run side by side on one host; 0
 * turns the endpoint off. Containers all use the same value (the deployments set it).
 */
export const metricsPortEnv = {
  gateway: env.port('MAESTRO_METRICS_PORT', { default: 9460, doc: 'Prometheus /metrics port (0: off)' }),
  orchestrator: env.port('MAESTRO_METRICS_PORT', { default: 9461, doc: 'Prometheus /metrics port (0: off)' }),
  workflowEngine: env.port('MAESTRO_METRICS_PORT', { default: 9462, doc: 'Prometheus /metrics port (0: off)' }),
  router: env.port('MAESTRO_METRICS_PORT', { default: 9463, doc: 'Prometheus /metrics port (0: off)' }),
  lockManager: env.port('MAESTRO_METRICS_PORT', { default: 9464, doc: 'Prometheus /metrics port (0: off)' }),
  memory: env.port('MAESTRO_METRICS_PORT', { default: 9465, doc: 'Prometheus /metrics port (0: off)' }),
  executor: env.port('MAESTRO_METRICS_PORT', { default: 9466, doc: 'Prometheus /metrics port (0: off)' }),
} as const;

/** gRPC listen/dial addresses of each service; one variable per service, shared by all. */
export const grpcAddrEnv = {
  gateway: env.hostPort('MAESTRO_GATEWAY_GRPC_ADDR', { default: '127.0.0.1:50050', doc: 'gateway gRPC (health) address' }),
  orchestrator: env.hostPort('MAESTRO_ORCHESTRATOR_GRPC_ADDR', { default: '127.0.0.1:50051', doc: 'orchestrator gRPC address' }),
  workflowEngine: env.hostPort('MAESTRO_WORKFLOW_ENGINE_GRPC_ADDR', { default: '127.0.0.1:50052', doc: 'workflow-engine gRPC address' }),
  router: env.hostPort('MAESTRO_ROUTER_GRPC_ADDR', { default: '127.0.0.1:50053', doc: 'router gRPC address' }),
  lockManager: env.hostPort('MAESTRO_LOCK_MANAGER_GRPC_ADDR', { default: '127.0.0.1:50054', doc: 'lock-manager gRPC address' }),
  memory: env.hostPort('MAESTRO_MEMORY_GRPC_ADDR', { default: '127.0.0.1:50055', doc: 'memory gRPC address' }),
  executor: env.hostPort('MAESTRO_EXECUTOR_GRPC_ADDR', { default: '127.0.0.1:50056', doc: 'executor admin gRPC address (port 0: any free port)' }),
} as const;
