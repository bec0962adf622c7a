/**
 * `RepoProbe` over the local file system and the `git` binary: how the orchestrator checks a
 * repository path and lists its files. Repositories must be on a file system this process can
 * see (the same volume the executors mount).
 */
import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { OperationalError } from '@maestro/runtime';
import type { PathKind, RepoProbe } from '../domain/repo-probe.js';

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

  async isGitWorkTree(repoPath: string): Promise<boolean> {
    // `.git` may be a directory (normal clone) or a file (worktrees, submodules).
    if ((await this.kind(path.join(repoPath, '.git'))) !== 'missing') return true;
    try {
      const { stdout } = await execFileAsync(this.git, ['-C', repoPath, 'rev-parse', '--is-inside-work-tree'], {
        timeout: this.timeoutMs,
      });
      return stdout.trim() === 'true';
    } catch (err) {
      if (errorCode(err) === 'ENOENT') {
        throw new OperationalError('GIT_MISSING', `the git binary "${this.git}" was not found`, { cause: err });
      }
      return false;
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

  async listFiles(repoPath: string): Promise<string[]> {
    try {
      const { stdout } = await execFileAsync(
        this.git,
        ['-C', repoPath, 'ls-files', '--cached', '--others', '--exclude-standard', '-z'],
        { timeout: this.timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      );
      return [...new Set(stdout.split('\0').filter((f) => f !== ''))];
    } catch (err) {
      throw new OperationalError('GIT_FAILED', `git ls-files failed in ${repoPath}: ${(err as Error).message}`, { cause: err });
    }
  }
}
