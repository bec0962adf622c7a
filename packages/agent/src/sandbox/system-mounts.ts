/**
 * The host paths every sandbox sees read-only: a curated allow-list, never `/`. `/usr` whole (the
 * programs and libraries), the merged-`/usr` links (`/bin → usr/bin` …) recreated as symlinks,
 * and the few files of `/etc` that programs need to resolve users, hosts, libraries,
 * certificates and the time zone. Not `/etc` whole: it holds `shadow`, ssh host keys and
 * `ssl/private`.
 */
import { lstatSync, readlinkSync } from 'node:fs';

/** One mount of the sandbox's read-only view of the host. */
export type SystemMount =
  /** Bind the host path read-only at the same place, if it exists. */
  | { kind: 'ro-bind-try'; path: string }
  /** Create `path` as a symlink to `target`, as the host has it. */
  | { kind: 'symlink'; path: string; target: string };

/** Top-level directories of programs and libraries (merged-`/usr` systems have the last four as symlinks). */
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'] as const;

/**
 * The files and directories of `/etc` a build or test may read. Credentials (`shadow`, `gshadow`,
 * `ssh/`, `ssl/private/`, `sudoers`) are not among them, nor is `/etc/gitconfig` (an operator's
 * system git settings are not the agent's business).
 */
export const ETC_ALLOW_LIST: readonly string[] = [
  '/etc/passwd',
  '/etc/group',
  '/etc/hosts',
  '/etc/host.conf',
  '/etc/resolv.conf',
  '/etc/nsswitch.conf',
  '/etc/gai.conf',
  '/etc/protocols',
  '/etc/services',
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/alternatives',
  '/etc/ssl/certs',
  '/etc/ssl/openssl.cnf',
  '/etc/ca-certificates',
  '/etc/localtime',
  '/etc/timezone',
  '/etc/os-release',
  '/etc/debian_version',
  '/etc/mime.types',
];

/** The mounts for the host's system directories and the `/etc` allow-list, as this host has them. */
export function systemMounts(): SystemMount[] {
  const mounts: SystemMount[] = [];
  for (const path of SYSTEM_DIRS) {
    const link = symlinkTarget(path);
    mounts.push(link === undefined ? { kind: 'ro-bind-try', path } : { kind: 'symlink', path, target: link });
  }
  for (const path of ETC_ALLOW_LIST) mounts.push({ kind: 'ro-bind-try', path });
  return mounts;
}

/** The target of `path` when it is a symlink; undefined when it is not one or does not exist. */
function symlinkTarget(path: string): string | undefined {
  try {
    return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : undefined;
  } catch {
    return undefined;
  }
}
