import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { safeGitArgs } from './safe-git.js';

// A test file of its own: the operator's safe.directory entries are read once per process (per
// module registry in Jest), so HOME is pointed at a config of ours before the first call.
describe("the operator's safe.directory", () => {
  const home = mkdtempSync(join(tmpdir(), 'maestro-safe-dir-home-'));
  const saved = { HOME: process.env['HOME'], XDG_CONFIG_HOME: process.env['XDG_CONFIG_HOME'] };
  beforeAll(() => {
    writeFileSync(join(home, '.gitconfig'), '[safe]\n\tdirectory = /srv/shared-repos/*\n\tdirectory = /srv/other\n');
    process.env['HOME'] = home;
    delete process.env['XDG_CONFIG_HOME'];
  });
  afterAll(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    rmSync(home, { recursive: true, force: true });
  });

  it('is carried onto the command line, since our commands read no global or system config', () => {
    const args = safeGitArgs(['status']);
    expect(args).toEqual(expect.arrayContaining(['-c', 'safe.directory=/srv/shared-repos/*']));
    expect(args.join(' ')).toContain('-c safe.directory=/srv/other status');
  });
});
