/**
 * Leaves the shared servers as a test found them: the Redis keys under a test's prefix and the
 * streams the lock-manager replicas created in a test's bus namespace.
 */
import { Redis } from 'ioredis';
import { connectBus } from '@maestro/bus';
import { Streams } from '@maestro/contracts';
import { createSilentLogger } from '@maestro/runtime';

/** Deletes every key that starts with `keyPrefix`. */
export async function deleteRedisKeys(redisUrl: string, keyPrefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}

/** Deletes the namespaced streams (those that exist) of `namespace`. */
export async function deleteNamespaceStreams(natsUrl: string, namespace: string): Promise<void> {
  const bus = await connectBus({ url: natsUrl, name: 'lock-stress-cleanup', logger: createSilentLogger(), namespace });
  try {
    for (const spec of Object.values(Streams)) {
      await bus.jsm.streams.delete(bus.namespace.stream(spec.name)).catch(() => undefined);
    }
  } finally {
    await bus.close();
  }
}
