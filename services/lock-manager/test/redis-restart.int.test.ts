/**
 * A real Redis restart under the lock store. The shipped Redis settings keep nothing on disk,
 * so a restart loses every lease and the token counter: tokens must still rise (5 → 2 was the
 * bug), and a holder whose lease vanished must be refused on its next check or extension.
 * Runs its own private redis-server on its own port; the machine's shared Redis is never touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { validateAcquire, validateCheckFence, validateExtend } from '../src/domain/lease.js';
import { RedisLockStore } from '../src/store/redis-lock-store.js';

jest.setTimeout(60_000);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A private redis-server that keeps nothing on disk (as shipped), stopped by its own pid. */
class PrivateRedis {
  private child: ChildProcess | undefined;
  constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`redis-server not ready:\n${output}`)), 10_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code}):\n${output}`));
      });
    });
  }

  /** SIGKILL, as a crash: nothing is saved. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}

let redis: PrivateRedis;
let client: Redis;
let store: RedisLockStore;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lock-redis-restart-'));
  redis = new PrivateRedis(await freePort(), dir);
  await redis.start();
  client = new Redis({ host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null, lazyConnect: false });
  store = new RedisLockStore({ redis: client, keyPrefix: 'restart:' });
});

afterAll(async () => {
  await store?.close();
  client?.disconnect();
  await redis?.kill();
  rmSync(dir, { recursive: true, force: true });
});

it('issues larger tokens after a restart that lost everything, and refuses the lease that vanished', async () => {
  const tokens: number[] = [];
  let last = await store.acquire(validateAcquire({ owner: 'before', concerns: ['file:/r/a.ts'], ttlMs: 60_000, waitMs: 0 }));
  tokens.push(last.fencingToken);
  for (let i = 0; i < 4; i++) {
    await store.release({ leaseId: last.leaseId, owner: 'before' });
    last = await store.acquire(validateAcquire({ owner: 'before', concerns: ['file:/r/a.ts'], ttlMs: 60_000, waitMs: 0 }));
    tokens.push(last.fencingToken);
  }
  const held = last;

  await redis.kill();
  await redis.start();
  await client.ping(); // the connection is back (ioredis reconnects on its own)

  // Nothing survived: the concern is free again, and its new grant's token is larger than any before.
  const after = await store.acquire(validateAcquire({ owner: 'after', concerns: ['dir:/r'], ttlMs: 60_000, waitMs: 0 }));
  expect(after.fencingToken).toBeGreaterThan(Math.max(...tokens));
  // The holder from before the restart learns it lost its lease before its next write.
  await expect(store.checkFence(validateCheckFence({ leaseId: held.leaseId, fencingToken: held.fencingToken }))).rejects.toMatchObject({ code: 'FENCED' });
  await expect(store.extend(validateExtend({ leaseId: held.leaseId, owner: 'before', ttlMs: 60_000 }))).rejects.toMatchObject({ code: 'LOCK_NOT_HELD' });
  // The new holder's lease is the current one.
  await expect(store.checkFence(validateCheckFence({ leaseId: after.leaseId, fencingToken: after.fencingToken }))).resolves.toMatchObject({ owner: 'after' });
});
