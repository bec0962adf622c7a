/**
 * Unique names for shared servers: a bus namespace and a Redis key prefix per test file, so
 * parallel test files never consume each other's messages or keys.
 */
import { randomUUID } from 'node:crypto';

/** A fresh NATS namespace (see `@maestro/bus` createNamespace). */
export function testNamespace(prefix = 't'): string {
  return `${prefix}${randomUUID().replace(/-/g, '').slice(0, 10)}`;
}

/** A fresh Redis key prefix ending in ':'. */
export function testKeyPrefix(prefix = 'maestro-test'): string {
  return `${prefix}:${randomUUID().slice(0, 8)}:`;
}

/** NATS, PostgreSQL and Redis of the test machine (overridable by env for CI elsewhere). */
export const testServers = {
  natsUrl: process.env['MAESTRO_TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222',
  redisUrl: process.env['MAESTRO_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379',
} as const;
