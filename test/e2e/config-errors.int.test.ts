/**
 * A service started with a missing or invalid variable exits non-zero with a message naming
 * it, before touching any server.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ServiceNames } from '@maestro/cli';
import { repoRoot } from './harness';

function runService(name: string, env: Record<string, string>): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, [join(repoRoot, 'services', name, 'dist', 'main.js')], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: result.status, stderr: `${result.stderr}${result.stdout}` };
}

describe.each(ServiceNames.map((n) => [n]))('%s', (name) => {
  it('exits 1 naming MAESTRO_NATS_URL when it is not a NATS URL', () => {
    const { status, stderr } = runService(name, {
      MAESTRO_NATS_URL: 'http://not-nats',
      MAESTRO_STRATEGIC_MODEL: 'scripted',
      MAESTRO_TACTICAL_MODEL: 'scripted',
      MAESTRO_SCRIPT_PATH: join(repoRoot, 'examples/scripts/demo-script.json'),
    });
    expect(status).toBe(1);
    expect(stderr).toMatch(/MAESTRO_NATS_URL/);
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
