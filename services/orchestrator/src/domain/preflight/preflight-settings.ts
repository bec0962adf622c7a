/**
 * What preflight checks for one run, and where that comes from. Two sources, merged:
 * - the run context's `preflight` object, which a workflow definition sets in its `context`
 *   (every run of the definition; the engine hands the context to the activity, not the
 *   state's `meta`), e.g. `"context": { "preflight": { "ports": [3000] } }`;
 * - the repository's `.maestro/preflight.json`, for what one repository needs (its dev server's
 *   port), e.g. `{ "ports": [5173], "allowDetachedHead": true }`.
 * Ports are the union of both; a detached HEAD is allowed when either allows it; the baseline
 * is skipped when either turns it off. Numbers: the repository's value wins, except for the
 * safety floors (`staleLockMinAgeMs`, `stopGraceMs`), where the stricter (larger) of the
 * workflow's value (or the default) and the repository's is taken: a file anyone can commit
 * must not make preflight remove younger locks or kill faster. Every field is validated and
 * bounded by {@link PreflightMaxima}, naming the source and the field.
 */
import { invalidField } from '@maestro/runtime';

/** Defaults of every preflight setting, in one place. */
export const PreflightDefaults = {
  /** Free space the repository's file system must have, in bytes (1 GiB). */
  minFreeDiskBytes: 1024 * 1024 * 1024,
  /** Longest the baseline test run may take before it is stopped and recorded as timed out. */
  baselineTimeoutMs: 300_000,
  /** How long a `.git/index.lock` held by a live process is waited for before preflight gives up. */
  lockWaitMs: 10_000,
  /** How often a held lock is looked at again while waiting. */
  lockPollMs: 500,
  /**
   * An index.lock younger than this is not removed even when no process here holds it: a git in
   * another PID namespace (another container on the same volume) is invisible in our `/proc`.
   */
  staleLockMinAgeMs: 60_000,
  /** After SIGTERM, how long an orphaned process of ours gets before SIGKILL. */
  stopGraceMs: 5_000,
  /** Whether a detached HEAD is acceptable. */
  allowDetachedHead: false,
  /** Whether the baseline test run is made at all. */
  baseline: true,
} as const;

/**
 * The largest value each setting accepts, from either source: a repository file must not make
 * preflight wait for hours or ask for more disk than any machine has.
 */
export const PreflightMaxima = {
  /** Ports one run may require. */
  ports: 64,
  /** 1 TiB. */
  minFreeDiskBytes: 1024 ** 4,
  /** 1 hour. */
  baselineTimeoutMs: 3_600_000,
  /** 5 minutes. */
  lockWaitMs: 300_000,
  /** 1 day. */
  staleLockMinAgeMs: 86_400_000,
  /** 1 minute. */
  stopGraceMs: 60_000,
} as const;

/** The settings of one preflight, validated and complete. */
export interface PreflightSettings {
  /** Ports that must be free on 127.0.0.1 (and ::1 when the host has it), ascending, each once. */
  ports: number[];
  allowDetachedHead: boolean;
  baseline: boolean;
  minFreeDiskBytes: number;
  baselineTimeoutMs: number;
  lockWaitMs: number;
  staleLockMinAgeMs: number;
  stopGraceMs: number;
}

/** The repository file preflight reads its per-repository settings from (relative to the top level). */
export const PREFLIGHT_REPO_FILE = '.maestro/preflight.json';

/** Settings as one source gives them (all optional). */
type PartialSettings = Partial<Omit<PreflightSettings, 'ports'>> & { ports?: number[] };

const NUMBER_FIELDS = ['minFreeDiskBytes', 'baselineTimeoutMs', 'lockWaitMs', 'staleLockMinAgeMs', 'stopGraceMs'] as const;
const FLAG_FIELDS = ['allowDetachedHead', 'baseline'] as const;
const KNOWN_FIELDS = new Set<string>(['ports', ...NUMBER_FIELDS, ...FLAG_FIELDS]);

function readSource(value: unknown, source: string): PartialSettings {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidField(source, 'must be an object of preflight settings');
  const raw = value as Record<string, unknown>;
  const out: PartialSettings = {};
  for (const key of Object.keys(raw)) {
    if (!KNOWN_FIELDS.has(key)) throw invalidField(`${source}.${key}`, `is not a preflight setting (known: ${[...KNOWN_FIELDS].join(', ')})`);
  }
  if (raw.ports !== undefined) {
    if (!Array.isArray(raw.ports)) throw invalidField(`${source}.ports`, 'must be an array of port numbers');
    if (raw.ports.length > PreflightMaxima.ports) throw invalidField(`${source}.ports`, `must list at most ${PreflightMaxima.ports} ports, got ${raw.ports.length}`);
    out.ports = raw.ports.map((port, i) => {
      if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) {
        throw invalidField(`${source}.ports[${i}]`, `must be a port number from 1 to 65535, got ${JSON.stringify(port)}`);
      }
      return port;
    });
  }
  for (const key of NUMBER_FIELDS) {
    const v = raw[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw invalidField(`${source}.${key}`, `must be a whole number of at least 0, got ${JSON.stringify(v)}`);
    if (v > PreflightMaxima[key]) throw invalidField(`${source}.${key}`, `must be at most ${PreflightMaxima[key]}, got ${v}`);
    out[key] = v;
  }
  for (const key of FLAG_FIELDS) {
    const v = raw[key];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') throw invalidField(`${source}.${key}`, `must be true or false, got ${JSON.stringify(v)}`);
    out[key] = v;
  }
  return out;
}

/**
 * Reads `repoFileText` (the text of `.maestro/preflight.json`, undefined when absent) into
 * settings; throws INVALID_ARGUMENT naming the file and field when it is not valid.
 */
function readRepoFile(repoFileText: string | undefined): PartialSettings {
  if (repoFileText === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(repoFileText);
  } catch (err) {
    throw invalidField(PREFLIGHT_REPO_FILE, `is not JSON: ${(err as Error).message}`);
  }
  return readSource(parsed, PREFLIGHT_REPO_FILE);
}

/**
 * The settings of a run: the defaults, then the run context's `preflight`, then the repository's
 * file (ports and flags are combined, safety floors take the stricter value; see the module doc).
 *
 * @example
 * resolvePreflightSettings({ ports: [3000] }, '{"ports":[5173]}').ports; // [3000, 5173]
 */
export function resolvePreflightSettings(fromContext: unknown, repoFileText: string | undefined): PreflightSettings {
  const workflow = readSource(fromContext, 'context.preflight');
  const repo = readRepoFile(repoFileText);
  const ports = [...new Set([...(workflow.ports ?? []), ...(repo.ports ?? [])])].sort((a, b) => a - b);
  const settings: PreflightSettings = {
    ports,
    allowDetachedHead: PreflightDefaults.allowDetachedHead || workflow.allowDetachedHead === true || repo.allowDetachedHead === true,
    // The baseline is skipped when either source turns it off.
    baseline: PreflightDefaults.baseline && workflow.baseline !== false && repo.baseline !== false,
    minFreeDiskBytes: repo.minFreeDiskBytes ?? workflow.minFreeDiskBytes ?? PreflightDefaults.minFreeDiskBytes,
    baselineTimeoutMs: repo.baselineTimeoutMs ?? workflow.baselineTimeoutMs ?? PreflightDefaults.baselineTimeoutMs,
    lockWaitMs: repo.lockWaitMs ?? workflow.lockWaitMs ?? PreflightDefaults.lockWaitMs,
    // Safety floors: the repository may raise them, never lower them below the workflow's (or the default).
    staleLockMinAgeMs: Math.max(workflow.staleLockMinAgeMs ?? PreflightDefaults.staleLockMinAgeMs, repo.staleLockMinAgeMs ?? 0),
    stopGraceMs: Math.max(workflow.stopGraceMs ?? PreflightDefaults.stopGraceMs, repo.stopGraceMs ?? 0),
  };
  return settings;
}
