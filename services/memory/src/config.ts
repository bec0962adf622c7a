/**
 * Every environment variable the memory service reads, declared once. `loadConfig` in
 * `main.ts` and `migrate.ts` validates them all at start and names any bad one.
 */
import { commonEnv, grpcAddrEnv } from '@maestro/runtime';
import type { ConfigOf } from '@maestro/runtime';

/** The memory service's configuration spec (see the README's table). */
export const memoryConfigSpec = {
  logLevel: commonEnv.logLevel,
  databaseUrl: commonEnv.databaseUrl,
  otlpEndpoint: commonEnv.otlpEndpoint,
  grpcAddr: grpcAddrEnv.memory,
} as const;

/** The memory service's validated, frozen configuration. */
export type MemoryConfig = ConfigOf<typeof memoryConfigSpec>;
