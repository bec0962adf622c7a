import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeConfig, loadConfig } from '@maestro/runtime';
import { gatewayConfigSpec } from './config.js';

describe('gatewayConfigSpec', () => {
  it('has working defaults for a local machine', () => {
    expect(loadConfig(gatewayConfigSpec, {})).toMatchObject({
      natsNamespace: '',
      httpPort: 8080,
      httpHost: '127.0.0.1',
      sseHeartbeatMs: 15_000,
    });
  });

  it('is documented in the README, one table row per variable exactly as the spec describes it', () => {
    const readme = readFileSync(join(__dirname, '../README.md'), 'utf8');
    const rows = describeConfig(gatewayConfigSpec).split('\n').slice(2);
    for (const row of rows) expect(readme).toContain(row);
  });
});
