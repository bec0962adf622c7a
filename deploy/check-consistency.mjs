#!/usr/bin/env node
/**
 * Checks that the deployment descriptions agree with the code: every environment variable a
 * service declares in `services/<name>/src/config.ts` (with `env.<kind>('NAME', …)`, another
 * builder called with the name first, an `{ name: 'NAME', … }` object literal, or taken
 * from @maestro/runtime's `commonEnv` / `grpcAddrEnv`) is set for that service in
 * `docker-compose.yml` and in its Kubernetes Deployment (`k8s/`, through kustomization.yaml),
 * and that names, values, ports and commands line up.
 *
 *   node deploy/check-consistency.mjs        exit 0: consistent; 1: problems (listed); 2: cannot check
 *
 * Rules, per service:
 * - Every declared variable is set, except a connection URL the service has no client for
 *   (MAESTRO_DATABASE_URL without a PostgreSQL dependency, MAESTRO_REDIS_URL without Redis,
 *   MAESTRO_NATS_URL without NATS): those come in through `...commonEnv` but are unused, and
 *   k8s gives database credentials only to the services that own tables.
 * - A MAESTRO_* variable that is set must be declared by the service, unless it is a shared one
 *   (`commonEnv`, `grpcAddrEnv`, MAESTRO_SERVICE). Variables the blueprint names but no
 *   service declares yet (model API keys) are reported as notes, not problems.
 * - Values parse as their kind would at start (int ranges, ports, URLs and protocols,
 *   host:port, one-of lists); compose `${VAR:-default}` is read as its default.
 * - gRPC: the service's own MAESTRO_<SERVICE>_GRPC_ADDR is `0.0.0.0:<port>`, every other one
 *   is `<that service's DNS name>:<port>`, with the port of `grpcAddrEnv`'s default. k8s: the
 *   container port and Service port use that port; the readiness/liveness `grpc:` probes use
 *   it too, or MAESTRO_GRPC_HEALTH_PORT when that is set (the plaintext health-only port for
 *   kubelet probes under mTLS), which must then be a containerPort.
 * - A declared `env.port` variable (the gateway's HTTP port) is a container port, published in
 *   compose and exposed by the k8s Service; a declared `*_HOST` variable is 0.0.0.0.
 * - MAESTRO_SERVICE names the service; the command is `serve` (the image's default).
 * - Services with `src/migrate.ts` are migrated before they start (compose: the `migrate`
 *   service, which they depend on with `service_completed_successfully`; k8s: an
 *   initContainer `migrate <service>`), and only they are.
 * - A `*_DRAIN_TIMEOUT_MS` fits inside the grace period (compose `stop_grace_period`, k8s
 *   `terminationGracePeriodSeconds`). Every k8s container has resource requests and limits.
 * - Every YAML file under k8s/ parses, and every top-level one is listed in kustomization.yaml.
 * - Metrics: every service declares its `metricsPortEnv` port (MAESTRO_METRICS_PORT); in k8s
 *   the port it will use is a containerPort named `metrics` and the pod template's
 *   prometheus.io/scrape ("true"), prometheus.io/port and prometheus.io/path (/metrics)
 *   annotations name it. The metrics port is not a listen port for the rules above: it is
 *   scraped on the pod, not published (compose) or exposed by the Service.
 *
 * Plain Node: the YAML parser is whichever of `yaml` / `js-yaml` is installed in the workspace
 * (js-yaml arrives with Jest), else python3's PyYAML.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SERVICES_DIR = join(ROOT, 'services');
const RUNTIME_CONFIG = join(ROOT, 'packages/runtime/src/config.ts');
/** Where shared variable builders live (`repoRootsEnv`, `tenantRepoRootsEnv`), imported by service configs. */
const RUNTIME_SRC = join(ROOT, 'packages/runtime/src');
const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');
const K8S_DIR = join(ROOT, 'k8s');

/** The plaintext health-only port kubelet probes use under mTLS: probed on the pod, never exposed. */
const HEALTH_PORT_VAR = 'MAESTRO_GRPC_HEALTH_PORT';
/** Variables every container may carry whether or not its config declares them. */
const ENTRYPOINT_VARS = new Set(['MAESTRO_SERVICE']);
/** Named by the blueprint (ARCHITECTURE.md, Configuration) but not declared by any service yet. */
const PLANNED_VARS = new Set(['GEMINI_API_KEY', 'DEEPSEEK_API_KEY', 'OPENAI_API_KEY', 'OPENAI_BASE_URL']);
/** A connection URL is required only where the service depends on a client for it. */
const CONNECTION_CLIENTS = {
  MAESTRO_DATABASE_URL: ['@maestro/db', 'pg', 'kysely', 'postgres'],
  MAESTRO_REDIS_URL: ['ioredis', 'redis', '@sesamecare-oss/redlock'],
  MAESTRO_NATS_URL: ['@maestro/bus', '@nats-io/transport-node', '@nats-io/jetstream', 'nats'],
};
const LISTEN_ANY = new Set(['0.0.0.0', '[::]', '::']);
/**
 * Services whose config does not declare metricsPortEnv yet, because another change owns
 * their config.ts right now: reported as notes, not problems. Empty this once they do.
 */
const METRICS_NOT_WIRED_YET = new Set([]);

const problems = [];
const notes = [];
const problem = (where, text) => problems.push(`${where}: ${text}`);
const note = (where, text) => notes.push(`${where}: ${text}`);

// ------------------------------------------------------------------------------------------
// YAML

/** Returns a `loadAll(text) → documents[]` from an installed parser, or python3's PyYAML. */
async function yamlLoader() {
  const require = createRequire(join(ROOT, 'package.json'));
  const candidates = [];
  for (const name of ['yaml', 'js-yaml']) {
    try {
      candidates.push({ name, path: require.resolve(name) });
    } catch {
      // not resolvable from the root; look in pnpm's virtual store below
    }
  }
  const store = join(ROOT, 'node_modules/.pnpm');
  if (existsSync(store)) {
    for (const entry of readdirSync(store).sort().reverse()) {
      const match = /^(js-yaml|yaml)@\d/.exec(entry);
      if (!match) continue;
      const dir = join(store, entry, 'node_modules', match[1]);
      if (existsSync(join(dir, 'package.json'))) candidates.push({ name: match[1], path: createRequire(join(dir, 'package.json')).resolve(dir) });
    }
  }
  for (const candidate of candidates) {
    try {
      const mod = await import(pathToFileURL(candidate.path).href);
      const lib = mod.default ?? mod;
      if (candidate.name === 'yaml' && typeof lib.parseAllDocuments === 'function') {
        return (text) =>
          lib.parseAllDocuments(text, { merge: true }).map((doc) => {
            if (doc.errors.length > 0) throw new Error(doc.errors.map((e) => e.message).join('; '));
            return doc.toJS({ maxAliasCount: -1 });
          });
      }
      if (candidate.name === 'js-yaml') {
        // loadAll(text, iterator) in both 3.x and 4.x; our files are trusted, so 3.x's wider
        // default schema does no harm, and both apply `<<` merge keys.
        if (typeof lib.loadAll === 'function') {
          return (text) => {
            const docs = [];
            lib.loadAll(text, (doc) => docs.push(doc));
            return docs;
          };
        }
      }
    } catch {
      // try the next candidate
    }
  }
  const probe = spawnSync('python3', ['-c', 'import yaml'], { encoding: 'utf8' });
  if (probe.status === 0) {
    return (text) => {
      const run = spawnSync(
        'python3',
        ['-c', 'import sys, json, yaml; json.dump(list(yaml.safe_load_all(sys.stdin)), sys.stdout)'],
        { input: text, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      );
      if (run.status !== 0) throw new Error(run.stderr.trim().split('\n').pop() ?? 'PyYAML failed');
      return JSON.parse(run.stdout);
    };
  }
  return undefined;
}

// ------------------------------------------------------------------------------------------
// Reading the TypeScript config declarations

/** Removes `//` line comments and block comments (not `//` inside strings such as URLs). */
function stripComments(source) {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

/** The text of the call starting at `open` (the index of its `(`), through the matching `)`. */
function callText(source, open) {
  let depth = 0;
  let quote = '';
  for (let i = open; i < source.length; i++) {
    const c = source[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
      continue;
    }
    if (c === "'" || c === '"' || c === '`') quote = c;
    else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth === 0) return source.slice(open, i + 1);
    }
  }
  return source.slice(open);
}

/** Reads a numeric option (`default: 60_000`, `min: 1`) from a call's text. */
function numberOption(text, option) {
  const match = new RegExp(`\\b${option}:\\s*(-?[\\d_]+(?:\\.\\d+)?)\\b`).exec(text);
  return match ? Number(match[1].replace(/_/g, '')) : undefined;
}

/**
 * Whether a local builder (`function <callee>(…) { … }` or `const <callee> = (…) => …`) gives
 * the variables it declares a default: then an empty value is valid (it means the default).
 */
function helperHasDefault(source, callee) {
  const escaped = callee.replace(/[$]/g, '\\$&');
  const start = new RegExp(`\\bfunction\\s+${escaped}\\s*[(<]|\\bconst\\s+${escaped}\\s*=`).exec(source);
  if (!start) return false;
  const open = source.indexOf('{', start.index);
  return open >= 0 && /\bdefault:/.test(callText(source, open));
}

let runtimeSourceText;
/** The text of every non-test source of packages/runtime, where shared builders are defined (read once). */
function runtimeSources() {
  runtimeSourceText ??= readdirSync(RUNTIME_SRC)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => stripComments(readFileSync(join(RUNTIME_SRC, f), 'utf8')))
    .join('\n');
  return runtimeSourceText;
}

/**
 * Every `<callee>('NAME', …)` declaration in `source`: the kind (`int`, `url`, …; `custom`
 * for a builder that is not `env.*`), default, and the limits a value must meet.
 */
function declarationsIn(source) {
  const out = new Map();
  const pattern = /\b((?:env\.)?[A-Za-z_$][\w$]*)\(\s*'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'/g;
  for (let match; (match = pattern.exec(source)); ) {
    const [, callee, name] = match;
    const text = callText(source, match.index + callee.length);
    const kind = callee.startsWith('env.') ? callee.slice(4) : 'custom';
    const decl = { name, kind, text };
    const stringDefault = /\bdefault:\s*'([^']*)'/.exec(text);
    if (stringDefault) decl.default = stringDefault[1];
    else if (numberOption(text, 'default') !== undefined) decl.default = numberOption(text, 'default');
    else if (/\bdefault:/.test(text)) decl.default = '(computed)';
    else if (kind === 'custom' && (helperHasDefault(source, callee) || helperHasDefault(runtimeSources(), callee))) decl.default = '(computed)';
    decl.min = numberOption(text, 'min');
    decl.max = numberOption(text, 'max');
    const protocols = /\bprotocols:\s*\[([^\]]*)\]/.exec(text);
    if (protocols) decl.protocols = [...protocols[1].matchAll(/'([^']+)'/g)].map((m) => m[1]);
    if (kind === 'oneOf') {
      const values = /^\(\s*'[^']+'\s*,\s*\[([^\]]*)\]/.exec(text);
      if (values) decl.values = [...values[1].matchAll(/'([^']+)'/g)].map((m) => m[1]);
    }
    out.set(name, decl);
  }
  // An EnvVar written out as an object literal (`{ name: 'NAME', default: …, parse }`), for a
  // kind the `env` builders lack (e.g. a non-negative decimal): a custom kind, like a builder's.
  const literal = /\{\s*name:\s*'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'/g;
  for (let match; (match = literal.exec(source)); ) {
    const name = match[1];
    if (out.has(name)) continue;
    const text = callText(source, match.index);
    const decl = { name, kind: 'custom', text };
    const stringDefault = /\bdefault:\s*'([^']*)'/.exec(text);
    if (stringDefault) decl.default = stringDefault[1];
    else if (numberOption(text, 'default') !== undefined) decl.default = numberOption(text, 'default');
    else if (/\bdefault:/.test(text)) decl.default = '(computed)';
    out.set(name, decl);
  }
  return out;
}

/** `{ key → declaration }` of one exported `as const` object (`commonEnv`, `grpcAddrEnv`). */
function exportedSpec(source, exportName) {
  const start = source.indexOf(`export const ${exportName} = {`);
  if (start < 0) return undefined;
  const body = callText(source, source.indexOf('{', start));
  const out = new Map();
  const pattern = /^\s*([A-Za-z_$][\w$]*):\s*env\.\w+\(\s*'([A-Z0-9_]+)'/gm;
  const decls = declarationsIn(body);
  for (let match; (match = pattern.exec(body)); ) out.set(match[1], decls.get(match[2]));
  return out;
}

/**
 * `{ key → declaration }` of `metricsPortEnv`: one variable name under every key, each with
 * its own default, so it is read key by key (exportedSpec keys declarations by name).
 */
function metricsPortSpec(source) {
  const start = source.indexOf('export const metricsPortEnv = {');
  const out = new Map();
  if (start < 0) return out;
  const body = callText(source, source.indexOf('{', start));
  for (const match of body.matchAll(/^\s*([A-Za-z_$][\w$]*):\s*env\.port\(/gm)) {
    const open = match.index + match[0].length - 1;
    const text = callText(body, open);
    const name = /^\(\s*'([A-Z0-9_]+)'/.exec(text)?.[1];
    if (name) out.set(match[1], { name, kind: 'port', text, default: numberOption(text, 'default') });
  }
  return out;
}

function kebab(camel) {
  return camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function portOf(hostPort) {
  const match = /:(\d+)$/.exec(String(hostPort ?? ''));
  return match ? Number(match[1]) : undefined;
}

function hostOf(hostPort) {
  const match = /^(.*):\d+$/.exec(String(hostPort ?? ''));
  return match ? match[1] : undefined;
}

// ------------------------------------------------------------------------------------------
// Values

/** Why `value` would be rejected at start, or undefined. Empty means "use the default". */
function valueProblem(decl, value) {
  const raw = String(value);
  if (raw === '') return decl.default === undefined ? 'is empty but has no default (required)' : undefined;
  switch (decl.kind) {
    case 'int':
    case 'port': {
      if (!/^-?\d+$/.test(raw.trim())) return `expected an integer, got "${raw}"`;
      const n = Number(raw);
      const min = decl.kind === 'port' ? 0 : decl.min;
      const max = decl.kind === 'port' ? 65535 : decl.max;
      if ((min !== undefined && n < min) || (max !== undefined && n > max)) return `expected ${min ?? '…'}..${max ?? '…'}, got ${n}`;
      return undefined;
    }
    case 'bool':
      return ['1', 'true', 'yes', 'on', '0', 'false', 'no', 'off'].includes(raw.trim().toLowerCase()) ? undefined : `expected true or false, got "${raw}"`;
    case 'url': {
      let url;
      try {
        url = new URL(raw);
      } catch {
        return `expected a URL, got "${raw}"`;
      }
      if (decl.protocols && !decl.protocols.includes(url.protocol)) return `expected a ${decl.protocols.join(' or ')} URL, got "${raw}"`;
      return undefined;
    }
    case 'hostPort':
      return /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.test(raw.trim()) ? undefined : `expected host:port, got "${raw}"`;
    case 'oneOf':
      return decl.values && !decl.values.includes(raw) ? `expected one of ${decl.values.join(', ')}, got "${raw}"` : undefined;
    default:
      return undefined;
  }
}

/** Compose interpolation as `docker compose` would do it with nothing exported. */
function interpolate(value) {
  if (value === null || value === undefined) return '';
  return String(value)
    .replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g, (_m, _name, fallback) => fallback ?? '')
    .replace(/\$\$/g, '$');
}

function durationSeconds(text) {
  if (text === undefined || text === null) return undefined;
  if (typeof text === 'number') return text;
  let total = 0;
  let matched = false;
  for (const m of String(text).matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|ns)/g)) {
    matched = true;
    const n = Number(m[1]);
    total += { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, ns: 1e-9 }[m[2]] * n;
  }
  return matched ? total : undefined;
}

// ------------------------------------------------------------------------------------------
// Per-service model of what the code expects

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function loadCodeModel() {
  if (!existsSync(RUNTIME_CONFIG)) {
    console.error(`cannot check: ${relative(ROOT, RUNTIME_CONFIG)} not found`);
    process.exit(2);
  }
  const runtime = stripComments(readFileSync(RUNTIME_CONFIG, 'utf8'));
  const commonEnv = exportedSpec(runtime, 'commonEnv');
  const grpcAddrEnv = exportedSpec(runtime, 'grpcAddrEnv');
  if (!commonEnv || !grpcAddrEnv || commonEnv.size === 0 || grpcAddrEnv.size === 0) {
    console.error('cannot check: commonEnv / grpcAddrEnv not found in packages/runtime/src/config.ts');
    process.exit(2);
  }
  /** service name → { decl, port } of its gRPC address variable */
  const grpc = new Map();
  for (const [key, decl] of grpcAddrEnv) grpc.set(kebab(key), { decl, port: portOf(decl.default) });
  const metricsPorts = metricsPortSpec(runtime);
  const shared = new Set([...commonEnv.values(), ...grpcAddrEnv.values(), ...metricsPorts.values()].map((d) => d.name));

  const services = new Map();
  const names = existsSync(SERVICES_DIR) ? readdirSync(SERVICES_DIR).filter((n) => statSync(join(SERVICES_DIR, n)).isDirectory()) : [];
  for (const name of new Set([...names, ...grpc.keys()])) {
    const dir = join(SERVICES_DIR, name);
    const configPath = join(dir, 'src/config.ts');
    if (!existsSync(configPath)) {
      problem(`services/${name}`, 'src/config.ts not found: cannot tell which variables it reads');
      continue;
    }
    const source = stripComments(readFileSync(configPath, 'utf8'));
    const vars = new Map();
    if (/\.\.\.\s*commonEnv\b/.test(source)) for (const d of commonEnv.values()) vars.set(d.name, d);
    if (/\.\.\.\s*grpcAddrEnv\b/.test(source)) for (const d of grpcAddrEnv.values()) vars.set(d.name, d);
    for (const m of source.matchAll(/\bcommonEnv\.([A-Za-z_$][\w$]*)/g)) {
      const d = commonEnv.get(m[1]);
      if (d) vars.set(d.name, d);
      else problem(`services/${name}/src/config.ts`, `commonEnv.${m[1]} does not exist in @maestro/runtime`);
    }
    for (const m of source.matchAll(/\bgrpcAddrEnv\.([A-Za-z_$][\w$]*)/g)) {
      const d = grpcAddrEnv.get(m[1]);
      if (d) vars.set(d.name, d);
      else problem(`services/${name}/src/config.ts`, `grpcAddrEnv.${m[1]} does not exist in @maestro/runtime`);
    }
    let metricsPort;
    for (const m of source.matchAll(/\bmetricsPortEnv\.([A-Za-z_$][\w$]*)/g)) {
      const d = metricsPorts.get(m[1]);
      if (!d) problem(`services/${name}/src/config.ts`, `metricsPortEnv.${m[1]} does not exist in @maestro/runtime`);
      else if (m[1] !== camel(name)) problem(`services/${name}/src/config.ts`, `reads metricsPortEnv.${m[1]}, another service's metrics port (expected metricsPortEnv.${camel(name)})`);
      else {
        vars.set(d.name, d);
        metricsPort = d;
      }
    }
    for (const d of declarationsIn(source).values()) {
      // declarationsIn finds MAESTRO_METRICS_PORT in no service file; keep the metricsPortEnv one.
      if (!(metricsPort && d.name === metricsPort.name)) vars.set(d.name, d);
    }

    const pkgPath = join(dir, 'package.json');
    const pkg = existsSync(pkgPath) ? readJson(pkgPath) : {};
    const deps = new Set(Object.keys({ ...pkg.dependencies }));
    const required = new Set(
      [...vars.keys()].filter((v) => !(v in CONNECTION_CLIENTS) || CONNECTION_CLIENTS[v].some((client) => deps.has(client))),
    );
    services.set(name, {
      name,
      vars,
      required,
      grpc: grpc.get(name),
      metricsPort,
      migrates: existsSync(join(dir, 'src/migrate.ts')),
    });
  }
  return { services, grpc, shared, metricsPorts };
}

// ------------------------------------------------------------------------------------------
// Checks shared by compose and k8s

/**
 * Checks one service's effective environment (`env`: name → value, undefined when the value
 * comes from elsewhere, e.g. a fieldRef) as deployed by `where`. `dnsNames(service)` lists the
 * host names that reach a service there.
 */
function checkEnvironment(where, service, env, model, dnsNames) {
  const planned = [];
  for (const variable of service.required) {
    if (!env.has(variable)) problem(where, `${variable} is not set (declared in services/${service.name}/src/config.ts)`);
  }
  for (const [variable, value] of env) {
    if (PLANNED_VARS.has(variable)) {
      if (!service.vars.has(variable)) planned.push(variable);
      continue;
    }
    if (!variable.startsWith('MAESTRO_')) continue;
    const decl = service.vars.get(variable);
    if (!decl) {
      if (!model.shared.has(variable) && !ENTRYPOINT_VARS.has(variable)) {
        problem(where, `${variable} is set but services/${service.name}/src/config.ts does not declare it`);
      }
      continue;
    }
    if (value === undefined) continue;
    const bad = valueProblem(decl, value);
    if (bad) problem(where, `${variable} ${bad}`);
  }
  if (planned.length > 0) note(where, `${planned.join(', ')} set for model adapters that are not built yet (no code reads them)`);
  if (env.get('MAESTRO_SERVICE') !== service.name) {
    problem(where, `MAESTRO_SERVICE is ${JSON.stringify(env.get('MAESTRO_SERVICE') ?? null)}, expected "${service.name}" (the entrypoint runs services/$MAESTRO_SERVICE)`);
  }
  // gRPC addresses: listen on our own, dial the others by DNS name, ports as in the code.
  for (const [target, { decl, port }] of model.grpc) {
    if (!env.has(decl.name)) continue;
    const value = env.get(decl.name);
    if (value === undefined) continue;
    if (portOf(value) !== port) problem(where, `${decl.name} is "${value}", but ${target}'s gRPC port is ${port}`);
    const host = hostOf(value);
    if (target === service.name) {
      if (!LISTEN_ANY.has(host)) problem(where, `${decl.name} is "${value}": its own listen address must be 0.0.0.0:${port} to accept other containers`);
    } else if (!dnsNames(target).includes(host)) {
      problem(where, `${decl.name} is "${value}": dials "${host}", expected one of ${dnsNames(target).map((h) => `${h}:${port}`).join(', ')}`);
    }
  }
  for (const decl of service.vars.values()) {
    if (/_HOST$/.test(decl.name) && env.has(decl.name) && env.get(decl.name) !== undefined && !LISTEN_ANY.has(env.get(decl.name))) {
      problem(where, `${decl.name} is "${env.get(decl.name)}": a listener in a container must bind 0.0.0.0`);
    }
  }
}

/** The values of a service's `env.port` variables (set or default), to find among its ports. */
function listenPorts(service, env) {
  const out = [];
  for (const decl of service.vars.values()) {
    if (decl.kind !== 'port' || decl === service.metricsPort || decl.name === HEALTH_PORT_VAR) continue;
    const raw = env.get(decl.name);
    const value = raw === undefined || raw === '' ? decl.default : Number(raw);
    if (typeof value === 'number' && value > 0) out.push({ name: decl.name, port: value });
  }
  return out;
}

/** A port variable's value as deployed (set, or the declaration's default). */
function effectivePort(decl, env) {
  if (!decl) return undefined;
  const raw = env.get(decl.name);
  const value = raw === undefined || raw === '' ? decl.default : Number(raw);
  return typeof value === 'number' ? value : undefined;
}

function camel(kebabName) {
  return kebabName.replace(/-([a-z])/g, (_m, c) => c.toUpperCase());
}

function drainSeconds(service, env) {
  for (const decl of service.vars.values()) {
    if (!/_DRAIN_TIMEOUT_MS$/.test(decl.name)) continue;
    const raw = env.get(decl.name);
    const ms = raw === undefined || raw === '' ? decl.default : Number(raw);
    if (typeof ms === 'number') return { name: decl.name, seconds: ms / 1000 };
  }
  return undefined;
}

// ------------------------------------------------------------------------------------------
// docker-compose.yml

function composeEnvironment(environment) {
  const env = new Map();
  if (Array.isArray(environment)) {
    for (const item of environment) {
      const text = String(item);
      const eq = text.indexOf('=');
      if (eq < 0) env.set(text, undefined);
      else env.set(text.slice(0, eq), interpolate(text.slice(eq + 1)));
    }
  } else if (environment && typeof environment === 'object') {
    for (const [key, value] of Object.entries(environment)) env.set(key, interpolate(value));
  }
  return env;
}

function asList(command) {
  if (command === undefined || command === null) return undefined;
  return Array.isArray(command) ? command.map(String) : String(command).trim().split(/\s+/);
}

function checkCompose(model, loadAll) {
  const where = 'docker-compose.yml';
  if (!existsSync(COMPOSE_FILE)) return problem(where, 'not found');
  let doc;
  try {
    doc = loadAll(readFileSync(COMPOSE_FILE, 'utf8'))[0];
  } catch (err) {
    return problem(where, `does not parse: ${err.message}`);
  }
  const composeServices = doc?.services ?? {};
  const dnsNames = (target) => [target];

  const migrators = [...model.services.values()].filter((s) => s.migrates).map((s) => s.name);
  const migrateJobs = Object.entries(composeServices).filter(([, svc]) => asList(svc.command)?.[0] === 'migrate');
  const migrated = new Map();
  for (const [jobName, job] of migrateJobs) {
    const names = asList(job.command).slice(1);
    if (names.length === 0) names.push(composeEnvironment(job.environment).get('MAESTRO_SERVICE'));
    for (const name of names) migrated.set(name, jobName);
    if (job.restart && !['no', 'on-failure'].includes(String(job.restart))) problem(`${where} ${jobName}`, `a one-shot job needs restart "no" (is "${job.restart}")`);
  }
  for (const name of migrators) if (!migrated.has(name)) problem(where, `no migrate job runs ${name}'s migrations (services/${name}/src/migrate.ts exists)`);
  for (const [name, jobName] of migrated) {
    const service = model.services.get(name);
    if (!service) problem(`${where} ${jobName}`, `migrates "${name}", which is not a service`);
    else if (!service.migrates) problem(`${where} ${jobName}`, `migrates ${name}, but services/${name}/src/migrate.ts does not exist (the entrypoint would fail)`);
  }

  for (const service of model.services.values()) {
    const svcWhere = `${where} service ${service.name}`;
    const svc = composeServices[service.name];
    if (!svc) {
      problem(where, `no service "${service.name}"`);
      continue;
    }
    const env = composeEnvironment(svc.environment);
    checkEnvironment(svcWhere, service, env, model, dnsNames);
    const command = asList(svc.command);
    if (command && !(command.length === 1 && command[0] === 'serve')) problem(svcWhere, `command is ${JSON.stringify(command)}, expected none or ["serve"]`);
    const containerPorts = (svc.ports ?? []).map((p) => {
      if (typeof p === 'object' && p !== null) return Number(p.target);
      const spec = String(p).split('/')[0];
      return Number(spec.split(':').pop());
    });
    for (const { name, port } of listenPorts(service, env)) {
      if (!containerPorts.includes(port)) problem(svcWhere, `${name} is ${port}, but ports publishes ${JSON.stringify(containerPorts)} (container side)`);
    }
    if (service.migrates) {
      const dependsOn = svc.depends_on ?? {};
      const jobName = migrated.get(service.name);
      const condition = Array.isArray(dependsOn) ? undefined : dependsOn[jobName]?.condition;
      if (jobName && condition !== 'service_completed_successfully') {
        problem(svcWhere, `must depend on "${jobName}" with condition service_completed_successfully`);
      }
    }
    const drain = drainSeconds(service, env);
    const grace = durationSeconds(svc.stop_grace_period) ?? 10;
    if (drain && grace <= drain.seconds) problem(svcWhere, `stop_grace_period ${grace}s does not cover ${drain.name} (${drain.seconds}s)`);
  }
}

// ------------------------------------------------------------------------------------------
// k8s/

function yamlFilesUnder(dir) {
  const out = [];
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...yamlFilesUnder(path));
    else if (/\.ya?ml$/.test(entry)) out.push(path);
  }
  return out.sort();
}

function checkK8s(model, loadAll) {
  const parsed = new Map();
  for (const file of yamlFilesUnder(K8S_DIR)) {
    try {
      parsed.set(file, loadAll(readFileSync(file, 'utf8')).filter((d) => d !== null && d !== undefined));
    } catch (err) {
      problem(relative(ROOT, file), `does not parse: ${err.message}`);
    }
  }
  const kustomizationPath = join(K8S_DIR, 'kustomization.yaml');
  const kustomization = parsed.get(kustomizationPath)?.[0];
  if (!kustomization) return problem('k8s/kustomization.yaml', 'not found or empty');
  const namespace = kustomization.namespace ?? 'maestro';
  const listed = (kustomization.resources ?? []).map((r) => join(K8S_DIR, r));
  for (const file of listed) if (!existsSync(file)) problem('k8s/kustomization.yaml', `lists ${relative(ROOT, file)}, which does not exist`);
  for (const file of parsed.keys()) {
    if (dirname(file) === K8S_DIR && file !== kustomizationPath && !listed.includes(file)) {
      problem('k8s/kustomization.yaml', `does not list ${relative(ROOT, file)}`);
    }
  }
  const objects = listed.flatMap((file) => (parsed.get(file) ?? []).map((obj) => ({ obj, file: relative(ROOT, file) })));
  const find = (kind, name) => objects.find(({ obj }) => obj.kind === kind && obj.metadata?.name === name);
  // A service is reached through the Service of its own name (checked below to exist).
  const dnsNames = (target) => [target, `${target}.${namespace}`, `${target}.${namespace}.svc`, `${target}.${namespace}.svc.cluster.local`];

  /** Effective environment of a container: envFrom sources, then env (which wins). */
  const containerEnv = (where, container) => {
    const env = new Map();
    for (const source of container.envFrom ?? []) {
      const ref = source.configMapRef ?? source.secretRef;
      const kind = source.configMapRef ? 'ConfigMap' : 'Secret';
      const found = ref && find(kind, ref.name);
      if (!found) {
        if (!ref?.optional) problem(where, `envFrom ${kind} "${ref?.name}" is not among the kustomization's resources`);
        continue;
      }
      const data = { ...found.obj.data, ...found.obj.stringData };
      for (const [key, value] of Object.entries(data)) {
        env.set((source.prefix ?? '') + key, kind === 'Secret' && found.obj.data?.[key] !== undefined ? Buffer.from(String(value), 'base64').toString() : String(value ?? ''));
      }
    }
    for (const item of container.env ?? []) {
      if (item.valueFrom?.configMapKeyRef || item.valueFrom?.secretKeyRef) {
        const ref = item.valueFrom.configMapKeyRef ?? item.valueFrom.secretKeyRef;
        const kind = item.valueFrom.configMapKeyRef ? 'ConfigMap' : 'Secret';
        const found = find(kind, ref.name);
        const data = found ? { ...found.obj.data, ...found.obj.stringData } : {};
        if (!found || !(ref.key in data)) {
          if (!ref.optional) problem(where, `${item.name} refers to ${kind} ${ref.name} key ${ref.key}, which does not exist`);
          continue;
        }
        env.set(item.name, String(data[ref.key] ?? ''));
      } else if (item.valueFrom) {
        env.set(item.name, undefined);
      } else {
        env.set(item.name, item.value === undefined || item.value === null ? '' : String(item.value));
      }
    }
    return env;
  };

  for (const service of model.services.values()) {
    const deployment = find('Deployment', service.name);
    if (!deployment) {
      problem('k8s', `no Deployment "${service.name}" in the kustomization's resources`);
      continue;
    }
    const where = `${deployment.file} Deployment ${service.name}`;
    const pod = deployment.obj.spec?.template?.spec ?? {};
    const containers = pod.containers ?? [];
    const container = containers.find((c) => c.name === service.name) ?? containers[0];
    if (!container) {
      problem(where, 'has no containers');
      continue;
    }
    const env = containerEnv(where, container);
    checkEnvironment(where, service, env, model, dnsNames);
    const args = container.args ?? container.command;
    if (args && !(args.length === 1 && args[0] === 'serve')) problem(where, `args are ${JSON.stringify(args)}, expected none or ["serve"]`);

    for (const c of [...containers, ...(pod.initContainers ?? [])]) {
      const r = c.resources ?? {};
      if (!r.requests?.cpu || !r.requests?.memory || !r.limits?.memory) problem(where, `container ${c.name} lacks resource requests (cpu, memory) or a memory limit`);
    }

    // gRPC port: container port, probes, Service.
    const port = service.grpc?.port;
    if (port !== undefined) {
      const containerPorts = (container.ports ?? []).map((p) => p.containerPort);
      if (!containerPorts.includes(port)) problem(where, `containerPorts ${JSON.stringify(containerPorts)} lack the gRPC port ${port}`);
      const healthPort = Number(env.get(HEALTH_PORT_VAR) ?? 0) || undefined;
      if (healthPort !== undefined && !containerPorts.includes(healthPort)) problem(where, `containerPorts ${JSON.stringify(containerPorts)} lack ${HEALTH_PORT_VAR} ${healthPort}`);
      const probePort = healthPort ?? port;
      for (const probe of ['readinessProbe', 'livenessProbe']) {
        const grpcPort = container[probe]?.grpc?.port;
        if (grpcPort !== probePort) problem(where, `${probe} must be a native gRPC probe on port ${probePort} (is ${JSON.stringify(container[probe] ?? null)})`);
      }
    }
    const svc = find('Service', service.name);
    if (!svc) {
      problem('k8s', `no Service "${service.name}" in the kustomization's resources`);
    } else {
      const svcWhere = `${svc.file} Service ${service.name}`;
      const labels = deployment.obj.spec?.template?.metadata?.labels ?? {};
      const selector = svc.obj.spec?.selector ?? {};
      if (Object.keys(selector).length === 0 || !Object.entries(selector).every(([k, v]) => labels[k] === v)) {
        problem(svcWhere, `selector ${JSON.stringify(selector)} does not select the Deployment's pods ${JSON.stringify(labels)}`);
      }
      const named = new Map((container.ports ?? []).map((p) => [p.name, p.containerPort]));
      const targets = (svc.obj.spec?.ports ?? []).map((p) => ({
        port: p.port,
        target: typeof p.targetPort === 'string' ? named.get(p.targetPort) : (p.targetPort ?? p.port),
      }));
      const exposes = (n) => targets.some((t) => t.port === n && t.target === n);
      if (port !== undefined && !exposes(port)) problem(svcWhere, `does not expose the gRPC port ${port} (port and target)`);
      for (const { name, port: p } of listenPorts(service, env)) {
        if (!(container.ports ?? []).some((cp) => cp.containerPort === p)) problem(where, `${name} is ${p}, but it is not a containerPort`);
        if (!exposes(p)) problem(svcWhere, `${name} is ${p}, but the Service does not expose it`);
      }
    }

    // Metrics: declared by the service, a named containerPort, and the scrape annotations.
    if (!service.metricsPort) {
      if (METRICS_NOT_WIRED_YET.has(service.name)) note(`services/${service.name}/src/config.ts`, 'does not declare metricsPortEnv yet (no /metrics served)');
      else problem(`services/${service.name}/src/config.ts`, `does not declare its metrics port (metricsPortEnv.${camel(service.name)})`);
    }
    const metricsPort = effectivePort(service.metricsPort ?? [...model.metricsPorts.values()][0], env);
    if (metricsPort === 0) {
      problem(where, 'MAESTRO_METRICS_PORT is 0: metrics are off, but every service is scraped');
    } else if (metricsPort !== undefined) {
      const named = (container.ports ?? []).find((p) => p.name === 'metrics');
      if (named?.containerPort !== metricsPort) problem(where, `needs a containerPort named "metrics" on the metrics port ${metricsPort} (has ${JSON.stringify(named ?? null)})`);
      const annotations = deployment.obj.spec?.template?.metadata?.annotations ?? {};
      if (annotations['prometheus.io/scrape'] !== 'true') problem(where, 'pod template lacks the annotation prometheus.io/scrape: "true"');
      if (String(annotations['prometheus.io/port']) !== String(metricsPort)) problem(where, `pod template annotation prometheus.io/port is ${JSON.stringify(annotations['prometheus.io/port'] ?? null)}, expected "${metricsPort}" (MAESTRO_METRICS_PORT)`);
      if (annotations['prometheus.io/path'] !== '/metrics') problem(where, 'pod template annotation prometheus.io/path must be /metrics');
    }

    // Migrations: an initContainer `migrate <service>` exactly where src/migrate.ts exists.
    const migrateInits = (pod.initContainers ?? []).filter((c) => (c.args ?? c.command ?? [])[0] === 'migrate');
    const migratedNames = migrateInits.flatMap((c) => {
      const names = (c.args ?? c.command).slice(1);
      return names.length > 0 ? names : [containerEnv(where, c).get('MAESTRO_SERVICE')];
    });
    if (service.migrates && !migratedNames.includes(service.name)) problem(where, `needs an initContainer with args ["migrate", "${service.name}"] (services/${service.name}/src/migrate.ts exists)`);
    for (const name of migratedNames) {
      if (!model.services.get(name)?.migrates) problem(where, `initContainer migrates ${name}, but services/${name}/src/migrate.ts does not exist (the entrypoint would fail)`);
    }
    for (const init of migrateInits) {
      if (!containerEnv(where, init).has('MAESTRO_DATABASE_URL')) problem(where, `initContainer ${init.name} has no MAESTRO_DATABASE_URL`);
    }

    const drain = drainSeconds(service, env);
    const grace = pod.terminationGracePeriodSeconds ?? 30;
    if (drain && grace <= drain.seconds) problem(where, `terminationGracePeriodSeconds ${grace} does not cover ${drain.name} (${drain.seconds}s)`);
  }
}

// ------------------------------------------------------------------------------------------

const loadAll = await yamlLoader();
if (!loadAll) {
  console.error('cannot check: no YAML parser (neither `yaml` nor `js-yaml` in node_modules, nor python3 with PyYAML)');
  process.exit(2);
}
const model = loadCodeModel();
checkCompose(model, loadAll);
checkK8s(model, loadAll);

for (const text of notes) console.log(`note: ${text}`);
if (problems.length > 0) {
  console.error(`deploy/check-consistency: ${problems.length} problem(s):`);
  for (const text of problems) console.error(`  - ${text}`);
  process.exit(1);
}
const variables = [...model.services.values()].reduce((n, s) => n + s.vars.size, 0);
console.log(
  `deploy/check-consistency: ok (${model.services.size} services, ${variables} declared variables, docker-compose.yml and k8s/ agree with services/*/src/config.ts)`,
);
