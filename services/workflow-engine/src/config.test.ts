import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, describeConfig } from '@maestro/runtime';
import { loadWorkflowEngineConfig, workflowEngineConfigSpec } from './config.js';

describe('loadWorkflowEngineConfig', () => {
  it('has working defaults for a local machine', () => {
    const config = loadWorkflowEngineConfig({});
    expect(config).toMatchObject({
      grpcAddr: '127.0.0.1:50052',
      natsUrl: 'nats://127.0.0.1:4222',
      natsNamespace: '',
      migrateOnStart: true,
      resultConcurrency: 16,
      sweepMs: 5000,
    });
  });

  it('names every bad variable', () => {
    let caught: unknown;
    try {
      loadWorkflowEngineConfig({ MAESTRO_WORKFLOW_ENGINE_GRPC_ADDR: 'nope', MAESTRO_DATABASE_URL: 'mysql://x', MAESTRO_WORKFLOW_ENGINE_RESULT_CONCURRENCY: '0' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const message = (caught as ConfigError).message;
    for (const name of ['MAESTRO_WORKFLOW_ENGINE_GRPC_ADDR', 'MAESTRO_DATABASE_URL', 'MAESTRO_WORKFLOW_ENGINE_RESULT_CONCURRENCY']) expect(message).toContain(name);
  });

  it('is documented in the README, one table row per variable exactly as the spec describes it', () => {
    const readme = readFileSync(join(__dirname, '../README.md'), 'utf8');
    const rows = describeConfig(workflowEngineConfigSpec).split('\n').slice(2);
    for (const row of rows) expect(readme).toContain(row);
  });
});
