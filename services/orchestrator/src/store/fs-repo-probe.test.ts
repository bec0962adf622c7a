import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsRepoProbe } from './fs-repo-probe.js';

describe('FsRepoProbe.readRepoFile', () => {
  let root: string;
  let repo: string;
  const probe = new FsRepoProbe({ maxReadBytes: 1024 });

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'maestro-read-repo-file-'));
    repo = join(root, 'repo');
    mkdirSync(join(repo, 'src'), { recursive: true });
    mkdirSync(join(repo, '.git'));
    writeFileSync(join(repo, 'src', 'add.js'), 'export const add = (a, b) => a + b;\n');
    writeFileSync(join(repo, '.git', 'config'), '[core]\n');
    writeFileSync(join(root, 'secret.txt'), 'host secret\n');
    mkdirSync(join(root, 'outside'));
    writeFileSync(join(root, 'outside', 'other.txt'), 'another tenant\n');
    writeFileSync(join(repo, 'big.txt'), 'x'.repeat(2048));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('reads a file of the work tree, and one reached through a symlink that stays inside it', async () => {
    symlinkSync('src/add.js', join(repo, 'alias.js'));
    expect(await probe.readRepoFile(repo, 'src/add.js')).toBe('export const add = (a, b) => a + b;\n');
    expect(await probe.readRepoFile(repo, 'alias.js')).toBe('export const add = (a, b) => a + b;\n');
  });

  it('never reads outside the work tree: .., absolute paths, symlinks to files or directories outside', async () => {
    symlinkSync(join(root, 'secret.txt'), join(repo, 'leak.txt'));
    symlinkSync(join(root, 'outside'), join(repo, 'linked-dir'));
    symlinkSync('../secret.txt', join(repo, 'relative-leak.txt'));
    for (const path of ['../secret.txt', 'src/../../secret.txt', join(root, 'secret.txt'), 'leak.txt', 'linked-dir/other.txt', 'relative-leak.txt']) {
      expect(await probe.readRepoFile(repo, path)).toBeUndefined();
    }
  });

  it('never reads .git, directories, missing files or files over the size limit', async () => {
    symlinkSync('.git/config', join(repo, 'git-config-link'));
    for (const path of ['.git/config', 'git-config-link', 'src', 'missing.js', 'big.txt', '']) {
      expect(await probe.readRepoFile(repo, path)).toBeUndefined();
    }
  });
});
