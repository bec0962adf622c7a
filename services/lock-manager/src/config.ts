/**
 * Every environment variable the lock-manager reads, declared once. `loadConfig` in `main.ts`
 * validates them all at start and names any bad one.
 */
import { commonEnv, env, grpcAddrEnv, metricsPortEnv } from '@maestro/runtime';
import type { ConfigOf } from '@maestro/runtime';

/** The lock-manager's configuration spec (see the README's table). */
export const lockManagerConfigSpec = {
  logLevel: commonEnv.logLevel,
  natsUrl: commonEnv.natsUrl,
  natsNamespace: commonEnv.natsNamespace,
  redisUrl: commonEnv.redisUrl,
  otlpEndpoint: commonEnv.otlpEndpoint,
  grpcAddr: grpcAddrEnv.lockManager,
  metricsHost: commonEnv.metricsHost,
  grpcTlsCa: commonEnv.grpcTlsCa,
  grpcTlsCert: commonEnv.grpcTlsCert,
  grpcTlsKey: commonEnv.grpcTlsKey,
  grpcTlsRefreshS: commonEnv.grpcTlsRefreshS,
  grpcPlaintext: commonEnv.grpcPlaintext,
  grpcHealthPort: commonEnv.grpcHealthPort,
  busSigningKey: commonEnv.busSigningKey,
  busUnsigned: commonEnv.busUnsigned,
  metricsPort: metricsPortEnv.lockManager,
  keyPrefix: env.string('MAESTRO_LOCK_KEY_PREFIX', {
    default: 'maestro:lock:',
    doc: 'prefix of every Redis key the lock-manager writes (tests and shared Redis servers use their own)',
  }),
} as const;

/** The lock-manager's validated, frozen configuration. */
export type LockManagerConfig = ConfigOf<typeof lockManagerConfigSpec>;
