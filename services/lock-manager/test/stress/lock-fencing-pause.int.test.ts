/**
 * Kleppmann's paused client, with a real SIGSTOP: a child process (`paused-writer.mjs`) holds a
 * lease with a short ttl and is stopped by the kernel; its lease expires, a second client gets
 * the concern with a newer fencing token and writes; the child is continued and writes with its
 * old lease and token, still believing it holds the lock. The fenced store
 * (`fenced-store.ts`: CheckFence at the lock-manager plus its own highest-token rule) must
 * refuse that write and keep the newer holder's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { LockServiceClient } from '@maestro/contracts';
import type { GrpcClient } from '@maestro/runtime';
import { testKeyPrefix, testNamespace, testServers } from '@maestro/testing';
import { FencedStore, FencedStoreErrorCodes, startFencedStoreServer, type FencedStoreServer, type WriteVerdict } from './fenced-store.js';
import { buildLockManager, LockManagerProcess } from './lock-manager-process.js';
import { deleteNamespaceStreams, deleteRedisKeys } from './shared-server-cleanup.js';

const PAUSED_WRITER = join(__dirname, 'paused-writer.mjs');
const CONCERN = 'file:/r/src/ledger.ts';
/** The paused client's lease: short, so the test waits little for it to lapse. */
const SHORT_TTL_MS = 1_500;
/** How long the second client may wait for the concern: far beyond the short ttl. */
const SECOND_WAIT_MS = 15_000;

/** A line the child printed, parsed. */
type ChildMessage = { event: 'leased'; leaseId: string; fencingToken: number } | { event: 'wrote'; value: string; status: number; verdict: WriteVerdict };

/** The child with its stdout read line by line; `next(event)` waits (bounded) for the next such line. */
class PausedWriter {
  private readonly messages: ChildMessage[] = [];
  private stderr = '';
  private exited = false;

  constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => this.messages.push(JSON.parse(line) as ChildMessage));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    child.once('exit', () => (this.exited = true));
  }

  async next<E extends ChildMessage['event']>(event: E, timeoutMs = 15_000): Promise<Extract<ChildMessage, { event: E }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.messages.findIndex((m) => m.event === event);
      if (index >= 0) return this.messages.splice(index, 1)[0] as Extract<ChildMessage, { event: E }>;
      if (this.exited || Date.now() > deadline) throw new Error(`paused writer never printed "${event}" (exited: ${this.exited}):\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  /** Kills the child by its pid (SIGKILL also ends a stopped process). */
  kill(): void {
    if (!this.exited && this.child.pid !== undefined) process.kill(this.child.pid, 'SIGKILL');
  }
}

const keyPrefix = testKeyPrefix('maestro-lock-fence');
const natsNamespace = testNamespace('lmf');
let replica: LockManagerProcess;
let lockClient: GrpcClient<LockServiceClient>;
let store: FencedStore;
let storeServer: FencedStoreServer;

beforeAll(async () => {
  buildLockManager();
  replica = await LockManagerProcess.start({ keyPrefix, natsNamespace, redisUrl: testServers.redisUrl, natsUrl: testServers.natsUrl });
  lockClient = replica.client(SECOND_WAIT_MS + 5_000);
  store = new FencedStore((leaseId, fencingToken) => lockClient.call.checkFence({ leaseId, fencingToken }));
  storeServer = await startFencedStoreServer(store);
}, 90_000);

afterAll(async () => {
  await storeServer?.close();
  lockClient?.close();
  await replica?.stop();
  await deleteRedisKeys(testServers.redisUrl, keyPrefix);
  await deleteNamespaceStreams(testServers.natsUrl, natsNamespace);
}, 30_000);

async function writeAs(leaseId: string, fencingToken: number, value: string): Promise<{ status: number; verdict: WriteVerdict }> {
  const response = await fetch(storeServer.writeUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ leaseId, fencingToken, value }),
  });
  return { status: response.status, verdict: (await response.json()) as WriteVerdict };
}

it('refuses the write of a client that was paused past its lease, and keeps the newer holder’s', async () => {
  const writer = new PausedWriter(
    spawn(process.execPath, [PAUSED_WRITER], {
      env: {
        PATH: process.env.PATH,
        LOCK_MANAGER_ADDR: replica.address,
        FENCED_STORE_URL: storeServer.writeUrl,
        CONCERN,
        OWNER: 'paused-writer',
        TTL_MS: String(SHORT_TTL_MS),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  );
  try {
    const old = await writer.next('leased');

    // While its lease is current, the child's writes land.
    writer.send('write while-current');
    expect(await writer.next('wrote')).toMatchObject({ status: 200, verdict: { accepted: true } });

    // The "GC pause": the kernel stops the child; its lease runs out while it cannot act.
    process.kill(writer.child.pid!, 'SIGSTOP');
    const newer = await lockClient.call.acquire({
      owner: 'second-writer',
      concerns: [CONCERN],
      sharedConcerns: [],
      ttlMs: 30_000,
      waitMs: SECOND_WAIT_MS,
    });
    expect(newer.fencingToken).toBeGreaterThan(old.fencingToken);
    expect(await writeAs(newer.leaseId, newer.fencingToken, 'from-second-writer')).toEqual({ status: 200, verdict: { accepted: true } });

    // The child wakes up and writes with its old lease and token, as if nothing happened.
    writer.send('write from-paused-writer');
    process.kill(writer.child.pid!, 'SIGCONT');
    const late = await writer.next('wrote');

    expect(late.status).toBe(409);
    expect(late.verdict.accepted).toBe(false);
    const refusals = late.verdict.accepted ? [] : late.verdict.refusals;
    const byLockManager = refusals.find((r) => r.by === 'lock-manager');
    expect(byLockManager?.code).toBe('FENCED');
    expect(byLockManager?.message).toContain(old.leaseId);
    expect(refusals.find((r) => r.by === 'storage')).toMatchObject({
      code: FencedStoreErrorCodes.staleToken,
      message: expect.stringContaining(String(old.fencingToken)),
    });
    expect(store.value).toBe('from-second-writer');
    expect(store.highestToken).toBe(newer.fencingToken);

    // The newer holder is still current: CheckFence answers its lease.
    await expect(lockClient.call.checkFence({ leaseId: newer.leaseId, fencingToken: newer.fencingToken })).resolves.toMatchObject({
      leaseId: newer.leaseId,
    });
    await lockClient.call.release({ leaseId: newer.leaseId, owner: 'second-writer' });
  } finally {
    writer.kill();
  }
}, 60_000);
