/**
 * Concerns: the names agents lock. A concern is `<kind>:<value>`; parsing normalizes the value
 * so that two spellings of one thing (`file:/repo/./a.ts`, `file:/repo/a.ts`) are one lock.
 * Paths are normalized lexically only: the lock-manager may not see the filesystem, so callers
 * resolve symlinks before they ask.
 */
import { invalidField } from '@maestro/runtime';

/** The kinds of concern an agent can lock. */
export const ConcernKinds = {
  /** One file, by absolute path. */
  file: 'file',
  /** A directory and everything under it, by absolute path. */
  dir: 'dir',
  /** A whole repository (everything under its root), by the root's absolute path. */
  repo: 'repo',
  /** The git index of a repository, by the repository's absolute path. */
  gitIndex: 'git-index',
  /** A TCP port, 1 to 65535. */
  port: 'port',
  /** Any other named resource (a database, a service under test …). */
  resource: 'resource',
} as const;
/** One of {@link ConcernKinds}. */
export type ConcernKind = (typeof ConcernKinds)[keyof typeof ConcernKinds];

/** A parsed concern; `name` is its canonical spelling, the one that is locked. */
export interface Concern {
  readonly kind: ConcernKind;
  readonly value: string;
  /** `<kind>:<normalized value>`. */
  readonly name: string;
}

/** Longest concern accepted, so a lock key stays a reasonable size. */
export const MAX_CONCERN_LENGTH = 4096;

const kinds: readonly string[] = Object.values(ConcernKinds);
/**
 * Kinds whose values share one path space, where `repo:` and `dir:` cover every path under
 * theirs (see `concernsOverlap`). `git-index:` is a path too, but stands alone.
 */
export const PATH_SPACE_KINDS: readonly ConcernKind[] = [ConcernKinds.repo, ConcernKinds.dir, ConcernKinds.file];
const pathKinds: readonly string[] = [...PATH_SPACE_KINDS, ConcernKinds.gitIndex];
// Resource names are identifiers, not free text: no spaces or control characters, so they read
// the same in logs, keys and events.
const resourceName = /^[A-Za-z0-9][A-Za-z0-9._:@/+-]*$/;
// Control characters (including NUL) are never part of a real path or name.
// eslint-disable-next-line no-control-regex
const controlChars = /[\u0000-\u001f\u007f]/;

/**
 * Parses and normalizes one concern, or throws an INVALID_ARGUMENT `UserError` naming `field`
 * (for example `concerns[2]`) and saying what a valid concern looks like.
 *
 * @example
 * parseConcern('file:/repo/./src//a.ts').name // 'file:/repo/src/a.ts'
 * parseConcern('file:/repo/src/../a.ts')       // throws: `..` is refused, not normalized away
 * parseConcern('port:08080').name             // 'port:8080'
 */
export function parseConcern(raw: string, field = 'concern'): Concern {
  if (raw.length === 0) throw invalidField(field, 'must not be empty; use <kind>:<value>, e.g. file:/repo/a.ts');
  if (raw.length > MAX_CONCERN_LENGTH) {
    throw invalidField(field, `must be at most ${MAX_CONCERN_LENGTH} characters, got ${raw.length}`);
  }
  if (controlChars.test(raw)) throw invalidField(field, 'must not contain control characters');
  const colon = raw.indexOf(':');
  const kind = colon < 0 ? '' : raw.slice(0, colon);
  if (!kinds.includes(kind)) {
    throw invalidField(
      field,
      `"${raw}" has no known kind; use one of ${kinds.map((k) => `${k}:`).join(', ')} followed by a value`,
    );
  }
  const value = raw.slice(colon + 1);
  const normalized = pathKinds.includes(kind)
    ? normalizePath(value, field, kind)
    : kind === ConcernKinds.port
      ? normalizePort(value, field)
      : normalizeResource(value, field);
  return { kind: kind as ConcernKind, value: normalized, name: `${kind}:${normalized}` };
}

/**
 * Normalizes an absolute path lexically: `.` segments, repeated and trailing slashes go; `..`
 * is refused (`field` named), because without the filesystem `a/link/..` cannot be resolved
 * safely and a lock must never silently cover a different path than the caller meant.
 */
export function normalizeAbsolutePath(value: string, field: string, what: string): string {
  if (!value.startsWith('/')) {
    throw invalidField(field, `${what} needs an absolute path (starting with /), got "${value}"`);
  }
  const segments = value.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..')) {
    throw invalidField(field, `${what} must not contain ".." segments, got "${value}"; resolve the path before locking it`);
  }
  return `/${segments.join('/')}`;
}

export { isPathWithin } from '@maestro/contracts';

function normalizePath(value: string, field: string, kind: string): string {
  return normalizeAbsolutePath(value, field, `${kind}:`);
}

function normalizePort(value: string, field: string): string {
  if (!/^\d{1,5}$/.test(value)) throw invalidField(field, `port: needs a number 1..65535, got "${value}"`);
  const port = Number(value);
  if (port < 1 || port > 65535) throw invalidField(field, `port: needs a number 1..65535, got ${port}`);
  return String(port);
}

function normalizeResource(value: string, field: string): string {
  if (!resourceName.test(value)) {
    throw invalidField(
      field,
      `resource: needs a name of letters, digits and . _ : @ / + - (starting with a letter or digit), got "${value}"`,
    );
  }
  return value;
}
