/**
 * The two measurements, the same for every {@link LockTarget}: sequential uncontended
 * acquire+release latency, and N clients contending for one resource, each holding it a fixed
 * time, for a fixed duration. Every phase is bounded in time; a phase that overruns is reported
 * as unfinished, never waited for.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LockClient, LockTarget } from './lock-target.js';
import { percentile } from '../shared/stats.js';

/** Sequential acquire+release of one uncontended resource. */
export interface UncontendedResult {
  ops: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  opsPerSecond: number;
  /** False when the phase's time budget ran out before `ops` were done. */
  finished: boolean;
}

/** N clients taking turns on one resource. */
export interface ContentionResult {
  clients: number;
  handoffs: number;
  seconds: number;
  handoffsPerSecond: number;
  p50WaitMs: number;
  p99WaitMs: number;
  maxWaitMs: number;
  /**
   * Grants that went to a different client than the one before: with unfair locks a releasing
   * client often takes the lock straight back, so this can be far below `handoffs`.
   */
  holderChanges: number;
  /** Times a library gave up (timeout, retries exhausted) and its client asked again. */
  giveUps: number;
  /** False when the time budget ran out with clients still waiting. */
  finished: boolean;
}

/** A resource name no other phase uses, so no phase sees another's leftovers. */
function freshResource(label: string): string {
  return `bench-${label}-${randomUUID().slice(0, 8)}`;
}

/** Runs `ops` acquire+release pairs one after the other (after `warmup` unmeasured ones). */
export async function measureUncontended(target: LockTarget, ops: number, warmup: number, budgetMs: number): Promise<UncontendedResult> {
  const client = await target.connect(0);
  const resource = freshResource('seq');
  const latencies: number[] = [];
  const deadline = performance.now() + budgetMs;
  try {
    for (let i = 0; i < warmup && performance.now() < deadline; i++) await (await client.acquire(resource))();
    const start = performance.now();
    while (latencies.length < ops && performance.now() < deadline) {
      const t0 = performance.now();
      const release = await client.acquire(resource);
      await release();
      latencies.push(performance.now() - t0);
    }
    const seconds = (performance.now() - start) / 1000;
    return {
      ops: latencies.length,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies.length === 0 ? Number.NaN : Math.max(...latencies),
      opsPerSecond: latencies.length / seconds,
      finished: latencies.length === ops,
    };
  } finally {
    await client.close();
  }
}

/**
 * `clients` clients loop acquire → hold `holdMs` → release on one resource until `durationMs`
 * has passed (a client already waiting finishes its turn). The wait is from asking to holding;
 * handoffs/s is grants ÷ (first ask → last release), a grant counting as a handoff whichever
 * client gets it. Gives up on the phase after `budgetMs`.
 */
export async function measureContention(
  target: LockTarget,
  clients: number,
  holdMs: number,
  durationMs: number,
  budgetMs: number,
): Promise<ContentionResult> {
  const connected: LockClient[] = [];
  try {
    for (let i = 0; i < clients; i++) connected.push(await target.connect(i));
    const resource = freshResource(`c${clients}`);
    const waits: number[] = [];
    const start = performance.now();
    const stopAt = start + durationMs;
    let lastRelease = start;
    let lastHolder = -1;
    let holderChanges = 0;
    const loops = connected.map(async (client, index) => {
      while (performance.now() < stopAt) {
        const asked = performance.now();
        const release = await client.acquire(resource);
        waits.push(performance.now() - asked);
        if (index !== lastHolder) holderChanges++;
        lastHolder = index;
        await sleep(holdMs);
        await release();
        lastRelease = Math.max(lastRelease, performance.now());
      }
    });
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      Promise.all(loops).then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), budgetMs))),
    ]).finally(() => clearTimeout(timer));
    // Unfinished loops fail once their connections close below; nothing waits for them.
    for (const loop of loops) loop.catch(() => undefined);
    const end = finished ? lastRelease : performance.now();
    const seconds = (end - start) / 1000;
    return {
      clients,
      handoffs: waits.length,
      seconds,
      handoffsPerSecond: waits.length / seconds,
      p50WaitMs: percentile(waits, 50),
      p99WaitMs: percentile(waits, 99),
      maxWaitMs: waits.length === 0 ? Number.NaN : Math.max(...waits),
      holderChanges,
      giveUps: connected.reduce((sum, c) => sum + c.giveUps, 0),
      finished,
    };
  } finally {
    await Promise.all(connected.map((c) => c.close().catch(() => undefined)));
  }
}
