/**
 * `RepoProbe` over the local file system and the `git` binary: how the orchestrator checks a
 * repository path and lists its files. Repositories must be on a file system this process can
 * see (the same volume the executors mount).
 */
import { execFile } from 'node:child_process';
import { readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative as relativePath, sep } from 'node:path';
import { promisify } from 'node:util';
import { findUnsafeGitConfig, GIT_CONFIG_LIST_ARGS, OperationalError, safeGitArgs, safeGitEnv } from '@maestro/runtime';
import type { GitWorkTreeInfo, PathKind, RepoCommandConfig, RepoProbe } from '../domain/repo-probe.js';

const execFileAsync = promisify(execFile);

/** Options for {@link FsRepoProbe}. */
export interface FsRepoProbeOptions {
  /** The git executable. @default 'git' */
  gitBinary?: string;
  /** Longest a git command may run. @default 10000 */
  timeoutMs?: number;
  /** Largest manifest file read, in bytes; bigger ones are treated as unreadable. @default 1048576 */
  maxReadBytes?: number;
}

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/** Answers repository questions with `fs` and `git`. */
export class FsRepoProbe implements RepoProbe {
  private readonly git: string;
  private readonly timeoutMs: number;
  private readonly maxReadBytes: number;

  constructor(options: FsRepoProbeOptions = {}) {
    this.git = options.gitBinary ?? 'git';
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxReadBytes = options.maxReadBytes ?? 1024 * 1024;
  }

  async kind(target: string): Promise<PathKind> {
    try {
      const info = await stat(target);
      if (info.isDirectory()) return 'directory';
      if (info.isFile()) return 'file';
      return 'other';
    } catch (err) {
      const code = errorCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing';
      throw new OperationalError('FS_UNAVAILABLE', `cannot stat ${target}: ${(err as Error).message}`, { cause: err });
    }
  }

  async gitWorkTree(repoPath: string): Promise<GitWorkTreeInfo> {
    // Always ask git: a `.git` entry proves nothing (an empty directory, a file of junk), and a
    // subdirectory of a repository has no `.git` of its own yet is inside a work tree.
    const inside = await this.revParse(repoPath, '--is-inside-work-tree');
    if (!inside.ok) return { kind: 'not-work-tree', detail: inside.detail };
    if (inside.stdout !== 'true') {
      return { kind: 'not-work-tree', detail: 'git says it is not inside a work tree (a .git directory or a bare repository?)' };
    }
    const top = await this.revParse(repoPath, '--show-toplevel');
    if (!top.ok) return { kind: 'not-work-tree', detail: top.detail };
    try {
      const [topLevel, real] = await Promise.all([realpath(top.stdout), realpath(repoPath)]);
      return { kind: 'work-tree', topLevel, realPath: real };
    } catch (err) {
      throw new OperationalError('FS_UNAVAILABLE', `cannot resolve ${repoPath}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** `git -C <dir> rev-parse <flag>`: its trimmed output, or git's complaint when it exits non-zero. */
  private async revParse(dir: string, flag: string): Promise<{ ok: true; stdout: string } | { ok: false; detail: string }> {
    try {
      const { stdout } = await execFileAsync(this.git, safeGitArgs(['-C', dir, 'rev-parse', flag]), { timeout: this.timeoutMs, env: safeGitEnv(process.env, { readOnly: true }) });
      return { ok: true, stdout: stdout.trim() };
    } catch (err) {
      if (errorCode(err) === 'ENOENT') {
        throw new OperationalError('GIT_MISSING', `the git binary "${this.git}" was not found`, { cause: err });
      }
      if ((err as { killed?: boolean }).killed) {
        throw new OperationalError('GIT_TIMEOUT', `git rev-parse in ${dir} took longer than ${this.timeoutMs} ms`, { cause: err });
      }
      const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
      const detail = stderr.split('\n')[0]?.replace(/^fatal: /, '') ?? '';
      return { ok: false, detail: detail === '' ? `git rev-parse failed: ${(err as Error).message}` : detail };
    }
  }

  async readText(file: string): Promise<string | undefined> {
    try {
      const info = await stat(file);
      if (!info.isFile() || info.size > this.maxReadBytes) return undefined;
      return await readFile(file, 'utf8');
    } catch (err) {
      const code = errorCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
      throw new OperationalError('FS_UNAVAILABLE', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
  }

  async readRepoFile(repoPath: string, relative: string): Promise<string | undefined> {
    if (relative === '' || isAbsolute(relative) || relative.split(/[\\/]/).some((part) => part === '..' || part === '.git')) return undefined;
    let repoReal: string;
    let fileReal: string;
    try {
      [repoReal, fileReal] = await Promise.all([realpath(repoPath), realpath(join(repoPath, relative))]);
    } catch (err) {
      const code = errorCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return undefined;
      throw new OperationalError('FS_UNAVAILABLE', `cannot resolve ${relative} in ${repoPath}: ${(err as Error).message}`, { cause: err });
    }
    const inside = relativePath(repoReal, fileReal);
    if (inside === '' || inside.startsWith('..') || isAbsolute(inside) || inside.split(sep).includes('.git')) return undefined;
    return this.readText(fileReal);
  }

  async commandConfig(repoPath: string): Promise<RepoCommandConfig> {
    try {
      const { stdout } = await execFileAsync(this.git, safeGitArgs(['-C', repoPath, ...GIT_CONFIG_LIST_ARGS]), {
        timeout: this.timeoutMs,
        maxBuffer: 16 * 1024 * 1024,
        env: safeGitEnv(process.env, { readOnly: true }),
      });
      return findUnsafeGitConfig(stdout);
    } catch (err) {
      throw new OperationalError('GIT_FAILED', `git config --list failed in ${repoPath}: ${(err as Error).message}`, { cause: err });
    }
  }

  async listFiles(repoPath: string): Promise<string[]> {
    try {
      const { stdout } = await execFileAsync(
        this.git,
        safeGitArgs(['-C', repoPath, 'ls-files', '--cached', '--others', '--exclude-standard', '-z']),
        { timeout: this.timeoutMs, maxBuffer: 64 * 1024 * 1024, env: safeGitEnv(process.env, { readOnly: true }) },
      );
      return [...new Set(stdout.split('\0').filter((f) => f !== ''))];
    } catch (err) {
      throw new OperationalError('GIT_FAILED', `git ls-files failed in ${repoPath}: ${(err as Error).message}`, { cause: err });
    }
  }
}
