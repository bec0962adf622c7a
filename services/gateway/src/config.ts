/**
 * Every environment variable the gateway reads, declared once. `loadConfig(gatewayConfigSpec)`
 * runs in `main.ts` only.
 */
import { ConfigError, commonEnv, env, grpcAddrEnv, metricsPortEnv, type ConfigOf } from '@maestro/runtime';
import { parseApiKey } from './auth/api-key.js';
import { DEFAULT_TENANT, TENANT_PATTERN } from './auth/tenant-name.js';

/** The credential kinds `MAESTRO_GATEWAY_AUTH` may name. */
export const gatewayAuthModes = ['api-keys', 'oidc', 'api-keys,oidc', 'oidc,api-keys'] as const;

const bootstrapKeyDoc =
  'the operator\'s admin API key (mk_<12 chars>_<43 chars>, from a secret); stored hashed at start. Empty: only keys already stored work';
/** Like env.string, but a bad value is never quoted back: it is a secret. */
const bootstrapKeyEnv = {
  ...env.string('MAESTRO_GATEWAY_BOOTSTRAP_KEY', { default: '', doc: bootstrapKeyDoc }),
  parse: (raw: string): string => {
    if (!parseApiKey(raw.trim())) throw new Error('expected an API key mk_<12 url-safe characters>_<43 base64url characters> (value not shown)');
    return raw.trim();
  },
};

/** The gateway's configuration spec: common variables, its HTTP listener, its metrics endpoint and its upstreams. */
export const gatewayConfigSpec = {
  ...commonEnv,
  httpPort: env.port('MAESTRO_GATEWAY_PORT', { default: 8080, doc: 'HTTP port of the public API (0: any free port)' }),
  httpHost: env.string('MAESTRO_GATEWAY_HOST', {
    default: '127.0.0.1',
    doc: 'HTTP listen address; 0.0.0.0 to accept connections from other hosts (containers)',
  }),
  // MAESTRO_METRICS_HOST comes with commonEnv above.
  metricsPort: metricsPortEnv.gateway,
  grpcAddr: grpcAddrEnv.gateway,
  orchestratorAddr: grpcAddrEnv.orchestrator,
  workflowEngineAddr: grpcAddrEnv.workflowEngine,
  memoryAddr: grpcAddrEnv.memory,
  routerAddr: grpcAddrEnv.router,
  lockManagerAddr: grpcAddrEnv.lockManager,
  upstreamDeadlineMs: env.int('MAESTRO_GATEWAY_UPSTREAM_DEADLINE_MS', {
    default: 10_000,
    min: 100,
    max: 300_000,
    doc: 'deadline of each gRPC call to the orchestrator, workflow-engine, memory, router and lock-manager',
  }),
  sseHeartbeatMs: env.int('MAESTRO_GATEWAY_SSE_HEARTBEAT_MS', {
    default: 15_000,
    min: 1_000,
    max: 300_000,
    doc: 'interval of the comment line that keeps idle server-sent-event streams open through proxies; each beat also re-reads the run and ends the stream if it finished unseen',
  }),
  // MAESTRO_DATABASE_URL comes with commonEnv above: the API keys live in its `gateway` schema.
  authModes: env.oneOf('MAESTRO_GATEWAY_AUTH', gatewayAuthModes, {
    default: 'api-keys',
    doc: 'which credentials are accepted: api-keys, oidc, or both (api-keys,oidc); there is no way to turn authentication off',
  }),
  bootstrapKey: bootstrapKeyEnv,
  bootstrapTenant: env.matching('MAESTRO_GATEWAY_BOOTSTRAP_TENANT', new RegExp(TENANT_PATTERN), 'a tenant name (a lower-case letter or digit, then up to 62 lower-case letters, digits, _ or -)', {
    default: DEFAULT_TENANT,
    doc: 'the tenant of the bootstrap key',
  }),
  oidcIssuer: env.string('MAESTRO_OIDC_ISSUER', { default: '', doc: 'the `iss` every OIDC token must carry (required with oidc)' }),
  oidcAudience: env.string('MAESTRO_OIDC_AUDIENCE', { default: '', doc: 'the `aud` every OIDC token must include (required with oidc)' }),
  oidcJwksUrl: env.url('MAESTRO_OIDC_JWKS_URL', {
    default: '',
    protocols: ['https:', 'http:'],
    doc: 'where the identity provider publishes its signing keys (required with oidc)',
  }),
  oidcClockSkewS: env.int('MAESTRO_OIDC_CLOCK_SKEW_S', { default: 60, min: 0, max: 600, doc: 'seconds of leeway on a token\'s exp and nbf' }),
  oidcTenantClaim: env.string('MAESTRO_OIDC_TENANT_CLAIM', { default: 'tenant', doc: 'the token claim naming the caller\'s tenant' }),
  webDist: env.string('MAESTRO_WEB_DIST', {
    default: '',
    doc: 'directory of the built viewer served at /; empty: packages/web/dist, found relative to the gateway package',
  }),
} as const;

/** The gateway's validated, frozen configuration. */
export type GatewayConfig = ConfigOf<typeof gatewayConfigSpec>;

/** True when the configuration accepts `mode` credentials. */
export function acceptsCredential(config: Pick<GatewayConfig, 'authModes'>, mode: 'api-keys' | 'oidc'): boolean {
  return config.authModes.split(',').includes(mode);
}

/**
 * Checks what one variable alone cannot: OIDC needs its issuer, audience and key URL. Throws a
 * ConfigError naming each missing variable.
 */
export function checkGatewayConfig(config: GatewayConfig): GatewayConfig {
  if (!acceptsCredential(config, 'oidc')) return config;
  const needed = { MAESTRO_OIDC_ISSUER: config.oidcIssuer, MAESTRO_OIDC_AUDIENCE: config.oidcAudience, MAESTRO_OIDC_JWKS_URL: config.oidcJwksUrl };
  const problems = Object.entries(needed)
    .filter(([, value]) => value === '')
    .map(([variable]) => ({ variable, problem: `is required when MAESTRO_GATEWAY_AUTH includes oidc (it is ${config.authModes})` }));
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
