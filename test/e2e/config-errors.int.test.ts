/**
 * A service started with a missing or invalid variable exits non-zero with a message naming
 * it, before touching any server.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ServiceNames } from '@maestro/cli';
import { repoRoot } from './harness.js';

function runService(name: string, env: Record<string, string>): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, [join(repoRoot, 'services', name, 'dist', 'main.js')], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: result.status, stderr: `${result.stderr}${result.stdout}` };
}

/** A shared variable each service reads, with a value of the wrong kind. */
const badUrl: Record<string, [string, string]> = {
  memory: ['MAESTRO_DATABASE_URL', 'mysql://not-postgres'],
};

describe.each(ServiceNames.map((n) => [n]))('%s', (name) => {
  const [urlVariable, badValue] = badUrl[name] ?? ['MAESTRO_NATS_URL', 'http://not-nats'];

  it('exits 1 naming a URL variable that has the wrong protocol', () => {
    const { status, stderr } = runService(name, {
      [urlVariable]: badValue,
      MAESTRO_STRATEGIC_MODEL: 'scripted',
      MAESTRO_TACTICAL_MODEL: 'scripted',
      MAESTRO_SCRIPT_PATH: join(repoRoot, 'examples/scripts/demo-script.json'),
    });
    expect(status).toBe(1);
    expect(stderr).toContain(urlVariable);
  });

  it('exits 1 naming its gRPC address variable when it is malformed', () => {
    const variable = `MAESTRO_${name.toUpperCase().replace(/-/g, '_')}_GRPC_ADDR`;
    const { status, stderr } = runService(name, {
      [variable]: 'no-port-here',
      MAESTRO_STRATEGIC_MODEL: 'scripted',
      MAESTRO_TACTICAL_MODEL: 'scripted',
      MAESTRO_SCRIPT_PATH: join(repoRoot, 'examples/scripts/demo-script.json'),
    });
    expect(status).toBe(1);
    expect(stderr).toContain(variable);
  });
});

it('the router exits 1 naming MAESTRO_SCRIPT_PATH when a model is scripted and no script is given', () => {
  const { status, stderr } = runService('router', { MAESTRO_STRATEGIC_MODEL: 'scripted', MAESTRO_TACTICAL_MODEL: 'scripted' });
  expect(status).toBe(1);
  expect(stderr).toMatch(/MAESTRO_SCRIPT_PATH/);
});
