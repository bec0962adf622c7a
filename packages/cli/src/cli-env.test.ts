import { readCliEnv } from './cli-env.js';
import { chooseModels, gatewayPortOf } from './commands/up.js';

describe('readCliEnv', () => {
  it('forwards MAESTRO_* variables and provider keys only, and treats blanks as unset', () => {
    const env = readCliEnv({ MAESTRO_NATS_URL: 'nats://x', DEEPSEEK_API_KEY: 'k', HOME: '/h', MAESTRO_GATEWAY_URL: '  ' });
    expect(env.forwarded).toEqual({ MAESTRO_NATS_URL: 'nats://x', DEEPSEEK_API_KEY: 'k', MAESTRO_GATEWAY_URL: '  ' });
    expect(env.gatewayUrl).toBeUndefined();
    expect(env.providerKeySet).toBe(true);
    expect(Object.isFrozen(env)).toBe(true);
  });
});

describe('maestro up settings', () => {
  it('runs the scripted provider on the demo script when no key and no model is set', () => {
    const models = chooseModels(readCliEnv({}), '/ws');
    expect(models).toEqual({
      scripted: true,
      description: 'scripted (/ws/examples/scripts/demo-script.json)',
      env: { MAESTRO_STRATEGIC_MODEL: 'scripted', MAESTRO_TACTICAL_MODEL: 'scripted', MAESTRO_SCRIPT_PATH: '/ws/examples/scripts/demo-script.json' },
    });
  });

  it('leaves the README defaults when a provider key is set, and configured models as they are', () => {
    expect(chooseModels(readCliEnv({ GEMINI_API_KEY: 'k' }), '/ws')).toMatchObject({ scripted: false, env: {} });
    expect(chooseModels(readCliEnv({ MAESTRO_TACTICAL_MODEL: 'openai:qwen', OPENAI_API_KEY: 'local' }), '/ws')).toMatchObject({
      scripted: false,
      description: 'strategic (default), tactical openai:qwen',
      env: {},
    });
  });

  it('takes the gateway port from MAESTRO_GATEWAY_PORT, naming it when it is not a port', () => {
    expect(gatewayPortOf({ gatewayPort: undefined })).toBe(8080);
    expect(gatewayPortOf({ gatewayPort: '9090' })).toBe(9090);
    expect(() => gatewayPortOf({ gatewayPort: '70000' })).toThrow('MAESTRO_GATEWAY_PORT: expected a port number from 1 to 65535, got "70000"');
  });
});
