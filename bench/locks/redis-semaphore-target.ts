/**
 * `redis-semaphore`'s `Mutex` (SET NX PX, retried every `retryInterval`) as a {@link LockTarget};
 * each client has its own ioredis connection. A `TimeoutError` after `acquireTimeout` counts as a
 * give-up and the client asks again.
 */
import { Redis } from 'ioredis';
import { Mutex, TimeoutError, type LockOptions } from 'redis-semaphore';
import type { LockClient, LockTarget, ReleaseLock } from './lock-target.js';

/** A Mutex target with `options` on top of the library's defaults (none: defaults). */
export function redisSemaphoreTarget(redisUrl: string, keyPrefix: string, variant: 'default' | 'tuned', options: LockOptions): LockTarget {
  const shown = Object.entries(options).map(([k, v]) => `${k} ${String(v)}`).join(', ');
  return {
    name: `redis-semaphore Mutex (${variant})`,
    settings: shown === '' ? 'library defaults (retryInterval 10 ms, acquireTimeout 10 s, lockTimeout 10 s)' : shown,
    async connect(): Promise<LockClient> {
      const redis = new Redis(redisUrl, { lazyConnect: true });
      await redis.connect();
      let closed = false;
      const client = {
        giveUps: 0,
        async acquire(resource: string): Promise<ReleaseLock> {
          for (;;) {
            // A phase that ran out of time closes its clients; their loops must end, not spin.
            if (closed) throw new Error('lock client closed');
            const mutex = new Mutex(redis, `${keyPrefix}${resource}`, options);
            try {
              await mutex.acquire();
            } catch (err) {
              if (!(err instanceof TimeoutError)) throw err;
              client.giveUps++;
              continue;
            }
            return () => mutex.release();
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
