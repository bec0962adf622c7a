/**
 * The floor: what four durable transitions cost with nothing but XState v5 and PostgreSQL. An
 * actor of the same four states (plus the final `done`) is created per run; its persisted
 * snapshot is INSERTed once, and each transition is `actor.send(NEXT)` followed by one UPDATE of
 * the run's row (state, snapshot, seq) on a pool of 16 connections. No history table, no events,
 * no RPC: the least a durable state machine on PostgreSQL can do.
 */
import { randomUUID } from 'node:crypto';
import { createActor, createMachine } from 'xstate';
import { createDb, sql, type Kysely } from '@maestro/db';
import { BENCH_STATES, NEXT_EVENT } from './bench-definitions.js';
import type { RunTarget } from './run-target.js';
import { nowMs } from './stats.js';

/** Connections of the floor's pool, as the issue sets it. */
export const FLOOR_POOL_SIZE = 16;

function floorMachine() {
  const states: Record<string, { on: Record<string, string> } | { type: 'final' }> = {};
  BENCH_STATES.forEach(({ state }, i) => {
    states[state] = { on: { [NEXT_EVENT]: BENCH_STATES[i + 1]?.state ?? 'done' } };
  });
  states['done'] = { type: 'final' };
  return createMachine({ id: 'floor', initial: BENCH_STATES[0].state, states });
}

/** Creates the floor's table in the database at `databaseUrl` and returns the target. */
export async function createXStateFloorTarget(databaseUrl: string): Promise<RunTarget> {
  const db: Kysely<unknown> = createDb<unknown>({ url: databaseUrl, maxConnections: FLOOR_POOL_SIZE, applicationName: 'bench-engine-floor' });
  await sql`CREATE TABLE IF NOT EXISTS floor_runs (id uuid PRIMARY KEY, state text NOT NULL, seq int NOT NULL, snapshot jsonb NOT NULL)`.execute(db);
  const machine = floorMachine();
  return {
    name: 'floor: bare XState v5 + one UPDATE per transition',
    settings: `XState actor per run, INSERT at start, one UPDATE (state, seq, snapshot jsonb) per transition, pg pool of ${FLOOR_POOL_SIZE}`,
    async run(): Promise<number[]> {
      const id = randomUUID();
      const actor = createActor(machine).start();
      const first = actor.getSnapshot();
      await sql`INSERT INTO floor_runs (id, state, seq, snapshot) VALUES (${id}, ${String(first.value)}, 0, ${JSON.stringify(actor.getPersistedSnapshot())}::jsonb)`.execute(db);
      const latencies: number[] = [];
      for (let seq = 1; seq <= BENCH_STATES.length; seq++) {
        const sent = nowMs();
        actor.send({ type: NEXT_EVENT });
        const state = String(actor.getSnapshot().value);
        const updated = await sql`UPDATE floor_runs SET state = ${state}, seq = ${seq}, snapshot = ${JSON.stringify(actor.getPersistedSnapshot())}::jsonb WHERE id = ${id}`.execute(db);
        latencies.push(nowMs() - sent);
        if (updated.numAffectedRows !== 1n) throw new Error(`floor run ${id}: the UPDATE of transition ${seq} changed ${String(updated.numAffectedRows)} rows`);
      }
      if (actor.getSnapshot().status !== 'done') throw new Error(`floor run ${id}: the actor did not reach its final state`);
      actor.stop();
      return latencies;
    },
    async close(): Promise<void> {
      await db.destroy();
    },
  };
}
