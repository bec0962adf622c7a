/**
 * `maestro intent` as a user runs it: the built `packages/cli/dist/main.js` (build first with
 * `pnpm exec tsc -b packages/cli`, as `make test` does), offline, no services.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const main = join(__dirname, '../dist/main.js');

describe('maestro intent (built binary)', () => {
  it('classifies standard input line by line and exits 0', () => {
    const result = spawnSync(process.execPath, [main, 'intent'], {
      input: 'refactor the retry loop into a helper function\nreview this PR\n',
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const lines = result.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { intent: string });
    expect(lines.map((l) => l.intent)).toEqual(['refactor', 'review']);
  });

  it('exits 2 on a usage error', () => {
    const result = spawnSync(process.execPath, [main, 'intent', 'two', 'words'], { encoding: 'utf8', timeout: 30_000 });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('quote the goal text');
  });
});
