import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, describeConfig, loadConfig } from '@maestro/runtime';
import { generateApiKey } from './auth/api-key.js';
import { checkGatewayConfig, gatewayConfigSpec } from './config.js';

describe('gatewayConfigSpec', () => {
  it('has working defaults for a local machine', () => {
    expect(loadConfig(gatewayConfigSpec, {})).toMatchObject({
      natsNamespace: '',
      httpPort: 8080,
      httpHost: '127.0.0.1',
      sseHeartbeatMs: 15_000,
      authModes: 'api-keys',
      bootstrapKey: '',
      bootstrapTenant: 'default',
      oidcClockSkewS: 60,
      oidcTenantClaim: 'tenant',
    });
  });

  it('is documented in the README, one table row per variable exactly as the spec describes it', () => {
    const readme = readFileSync(join(__dirname, '../README.md'), 'utf8');
    const rows = describeConfig(gatewayConfigSpec).split('\n').slice(2);
    for (const row of rows) expect(readme).toContain(row);
  });

  it('accepts a bootstrap key in the mk_ format and refuses anything else without quoting it', () => {
    const key = generateApiKey().key;
    expect(loadConfig(gatewayConfigSpec, { MAESTRO_GATEWAY_BOOTSTRAP_KEY: key }).bootstrapKey).toBe(key);
    const secret = 'not-a-key-but-maybe-a-password';
    const error = (() => {
      try {
        loadConfig(gatewayConfigSpec, { MAESTRO_GATEWAY_BOOTSTRAP_KEY: secret });
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('MAESTRO_GATEWAY_BOOTSTRAP_KEY');
    expect((error as ConfigError).message).not.toContain(secret);
  });

  it('has no mode without authentication', () => {
    expect(() => loadConfig(gatewayConfigSpec, { MAESTRO_GATEWAY_AUTH: 'none' })).toThrow(/MAESTRO_GATEWAY_AUTH/);
    expect(() => loadConfig(gatewayConfigSpec, { MAESTRO_GATEWAY_AUTH: 'off' })).toThrow(ConfigError);
  });

  it('needs the issuer, audience and key URL when OIDC is on, naming each missing variable', () => {
    const config = loadConfig(gatewayConfigSpec, { MAESTRO_GATEWAY_AUTH: 'api-keys,oidc', MAESTRO_OIDC_ISSUER: 'https://id.example.test/' });
    expect(() => checkGatewayConfig(config)).toThrow(/MAESTRO_OIDC_AUDIENCE[\s\S]*MAESTRO_OIDC_JWKS_URL/);
    const complete = loadConfig(gatewayConfigSpec, {
      MAESTRO_GATEWAY_AUTH: 'oidc',
      MAESTRO_OIDC_ISSUER: 'https://id.example.test/',
      MAESTRO_OIDC_AUDIENCE: 'maestro',
      MAESTRO_OIDC_JWKS_URL: 'https://id.example.test/jwks.json',
    });
    expect(checkGatewayConfig(complete)).toBe(complete);
  });
});
