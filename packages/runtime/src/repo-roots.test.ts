import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from './config.js';
import { isInsideRoots, parseRepoRoots, RepoSafetyErrorCodes, repoRootsEnv, resolveRepoInRoots } from './repo-roots.js';

const PAYLOADS = path.join(__dirname, '../../../../shared/corpora/safety/payloads');

/** Payload lines read in place; only ever used as path strings. `{FILE}` names the outside repository. */
function payloads(file: string, every = 1): string[] {
  return readFileSync(path.join(PAYLOADS, file), 'utf8')
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l, i) => l !== '' && i % every === 0)
    .map((l) => l.replaceAll('{FILE}', 'outside-repo'));
}

let base: string;
let root: string;
beforeAll(() => {
  base = realpathSync(mkdtempSync(path.join(tmpdir(), 'maestro-roots-')));
  // Deep, so traversals of many levels still land in directories this test made.
  root = path.join(base, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'repos');
  mkdirSync(path.join(root, 'calc'), { recursive: true });
  for (let dir = path.dirname(root); dir.startsWith(base); dir = path.dirname(dir)) mkdirSync(path.join(dir, 'outside-repo'));
  mkdirSync(`${root}-evil/calc`, { recursive: true });
  writeFileSync(path.join(base, 'a-file'), 'x');
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('parseRepoRoots', () => {
  it('reads colon-separated absolute directories as real paths, without empty entries, trailing slashes or duplicates', () => {
    symlinkSync(root, path.join(base, 'root-link'));
    expect(parseRepoRoots(`${root}/::${path.join(base, 'root-link')}: ${base} `)).toEqual([root, base]);
    expect(parseRepoRoots('')).toEqual([]);
  });

  it.each([
    ['a relative entry', 'repos', 'absolute path'],
    ['a missing directory', '/nonexistent/maestro-roots', 'does not exist'],
    ['a file', '<base>/a-file', 'not a directory'],
    ['a NUL character', '/tmp\0/x', 'NUL'],
  ])('refuses %s; the config loader names MAESTRO_REPO_ROOTS', (_what, raw, problem) => {
    const value = raw.replace('<base>', base ?? '');
    expect(() => parseRepoRoots(value)).toThrow(problem);
    let thrown: unknown;
    try {
      loadConfig({ repoRoots: repoRootsEnv('MAESTRO_REPO_ROOTS') }, { MAESTRO_REPO_ROOTS: value });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).problems[0]?.variable).toBe('MAESTRO_REPO_ROOTS');
  });

  it('is empty when the variable is unset', () => {
    expect(loadConfig({ repoRoots: repoRootsEnv('MAESTRO_REPO_ROOTS') }, {}).repoRoots).toEqual([]);
  });
});

describe('isInsideRoots', () => {
  it.each([
    ['the root itself', '/srv/repos', true],
    ['a repository below it', '/srv/repos/team/calc', true],
    ['a sibling whose name starts with the root', '/srv/repos-evil/calc', false],
    ['a sibling named like the root plus a suffix', '/srv/reposx', false],
    ['the parent', '/srv', false],
    ['a .. component that would climb out', '/srv/repos/../secrets', false],
    ['a .. component even when it would stay inside', '/srv/repos/a/../calc', false],
    ['a NUL byte', '/srv/repos/calc\0/x', false],
    ['a relative path', 'srv/repos/calc', false],
    ['another case (realpath has given the directory its one spelling)', '/SRV/Repos/calc', false],
  ])('%s → %s', (_what, candidate, inside) => {
    expect(isInsideRoots(candidate, ['/srv/repos'])).toBe(inside);
  });

  it('accepts a root given with a trailing slash', () => {
    expect(isInsideRoots('/srv/repos/calc', ['/srv/repos/'])).toBe(true);
    expect(isInsideRoots('/srv/repos-evil', ['/srv/repos/'])).toBe(false);
  });

  it('is false for everything with no roots', () => {
    expect(isInsideRoots('/srv/repos/calc', [])).toBe(false);
  });

  it.each(['deep_traversal.txt', 'directory_traversal.txt', 'traversals-8-deep-exotic-encoding.txt'])('never lets a payload of %s appended to the root in', (file) => {
    for (const payload of payloads(file)) {
      const candidate = `${root}/${payload}`;
      if (isInsideRoots(candidate, [root])) {
        // Inside only when it has no `..` component and really is below the root.
        expect(path.resolve(candidate).startsWith(`${root}${path.sep}`)).toBe(true);
        expect(candidate.split(/[\\/]/)).not.toContain('..');
      }
    }
  });
});

describe('resolveRepoInRoots', () => {
  it('accepts a repository inside and returns its real path', async () => {
    symlinkSync(path.join(root, 'calc'), path.join(root, 'calc-link'));
    expect(await resolveRepoInRoots(path.join(root, 'calc-link'), [root])).toEqual({ ok: true, realPath: path.join(root, 'calc') });
  });

  it('refuses a symlink inside the root that points outside, saying where it really leads', async () => {
    symlinkSync(path.join(base, 'outside-repo'), path.join(root, 'out-link'));
    const found = await resolveRepoInRoots(path.join(root, 'out-link'), [root]);
    expect(found).toMatchObject({ ok: false, code: RepoSafetyErrorCodes.REPO_OUTSIDE_ROOTS });
    expect(!found.ok && found.problem).toContain(`its real path is ${path.join(base, 'outside-repo')}`);
  });

  it('refuses the prefix-confused sibling, naming the roots and the variable', async () => {
    const found = await resolveRepoInRoots(`${root}-evil/calc`, [root]);
    expect(found).toMatchObject({ ok: false, code: RepoSafetyErrorCodes.REPO_OUTSIDE_ROOTS });
    expect(!found.ok && found.problem).toContain(root);
    expect(!found.ok && found.problem).toContain('MAESTRO_REPO_ROOTS');
  });

  it('says a path that does not exist does not exist', async () => {
    expect(await resolveRepoInRoots(path.join(root, 'missing'), [root])).toMatchObject({ ok: false, code: RepoSafetyErrorCodes.REPO_NOT_FOUND });
  });

  it('refuses everything when no roots are configured, naming the variable', async () => {
    const found = await resolveRepoInRoots(path.join(root, 'calc'), []);
    expect(found).toMatchObject({ ok: false, code: RepoSafetyErrorCodes.REPO_OUTSIDE_ROOTS });
    expect(!found.ok && found.problem).toContain('set MAESTRO_REPO_ROOTS');
  });

  it.each([
    ['deep_traversal.txt', 1],
    ['traversals-8-deep-exotic-encoding.txt', 1],
    ['dotdotpwn.txt', 7],
  ])('resolves no payload of %s appended to the root to a directory outside it', async (file, every) => {
    let escapedOnDisk = 0;
    for (const payload of payloads(file, every)) {
      const candidate = `${root}/${payload}`;
      const found = await resolveRepoInRoots(candidate, [root]);
      if (found.ok) {
        expect(found.realPath === root || found.realPath.startsWith(`${root}${path.sep}`)).toBe(true);
      } else if (found.code === RepoSafetyErrorCodes.REPO_OUTSIDE_ROOTS) {
        escapedOnDisk++;
      }
    }
    // The corpus does climb to the outside repositories this test made: they were refused.
    if (file !== 'dotdotpwn.txt') expect(escapedOnDisk).toBeGreaterThan(0);
  });
});
