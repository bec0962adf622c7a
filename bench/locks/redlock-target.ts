/**
 * `@sesamecare-oss/redlock` on a single Redis instance as a {@link LockTarget}; each client has
 * its own ioredis connection and Redlock. An `ExecutionError` once `retryCount` attempts failed
 * counts as a give-up and the client asks again.
 */
import { Redis } from 'ioredis';
import { ExecutionError, Redlock, type Settings } from '@sesamecare-oss/redlock';
import type { LockClient, LockTarget, ReleaseLock } from './lock-target.js';

const LOCK_DURATION_MS = 10_000;

/** A Redlock target with `settings` on top of the library's defaults (none: defaults). */
export function redlockTarget(redisUrl: string, keyPrefix: string, variant: 'default' | 'tuned', settings: Settings): LockTarget {
  const shown = Object.entries(settings).map(([k, v]) => `${k} ${String(v)}`).join(', ');
  return {
    name: `@sesamecare-oss/redlock (${variant})`,
    settings:
      (shown === '' ? 'library defaults (retryCount 10, retryDelay 200 ms, retryJitter 100 ms)' : shown) +
      `; lock duration ${LOCK_DURATION_MS} ms, one Redis`,
    async connect(): Promise<LockClient> {
      const redis = new Redis(redisUrl, { lazyConnect: true });
      await redis.connect();
      const redlock = new Redlock([redis], settings);
      // Redlock emits client errors as events; a lost vote shows up as the acquire's ExecutionError.
      redlock.on('error', () => undefined);
      let closed = false;
      const client = {
        giveUps: 0,
        async acquire(resource: string): Promise<ReleaseLock> {
          for (;;) {
            // A phase that ran out of time closes its clients; their loops must end, not spin.
            if (closed) throw new Error('lock client closed');
            try {
              const lock = await redlock.acquire([`${keyPrefix}${resource}`], LOCK_DURATION_MS);
              return async () => {
                await lock.release();
              };
            } catch (err) {
              if (!(err instanceof ExecutionError)) throw err;
              client.giveUps++;
            }
          }
        },
        async close(): Promise<void> {
          closed = true;
          await redis.quit();
        },
      };
      return client;
    },
  };
}
