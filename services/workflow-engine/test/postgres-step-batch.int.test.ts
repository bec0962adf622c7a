/**
 * Steps of different runs committed together (group commit) on PostgreSQL: the batch statement
 * writes each run as a step of its own would, per-row conditional, and one bad row fails only
 * its own step.
 */
import { sql } from 'kysely';
import { codingDefinition, contentHash } from '../src/domain/index.js';
import { writeSteps, type StepToWrite } from '../src/store/postgres-run-step.js';
import { PostgresRunStore } from '../src/store/postgres-run-store.js';
import type { NewRun, RunDecision, RunRecord } from '../src/store/run-store.js';
import { newCodingRun } from './coding-run.js';
import { createScratchDatabase, type ScratchDatabase } from './scratch-database.js';

let scratch: ScratchDatabase;
let store: PostgresRunStore;
let version: number;

beforeAll(async () => {
  scratch = await createScratchDatabase();
  store = new PostgresRunStore(scratch.db);
  version = (await store.saveDefinition('coding', codingDefinition as Record<string, unknown>, contentHash(codingDefinition))).definition.version;
});

afterAll(async () => {
  await scratch?.drop();
});

const newRun = (): NewRun => newCodingRun(version);

async function rowVersionOf(runId: string): Promise<string> {
  const row = (await sql<{ v: string }>`select xmin::text as v from workflow.runs where id = ${runId}::uuid`.execute(scratch.db)).rows[0];
  return row!.v;
}

/** A step to `state` with a transition and a counter in the context. */
function moveTo(current: RunRecord, state: string, n = 1): Extract<RunDecision, { kind: 'update' }> {
  return {
    kind: 'update',
    position: { ...current, state, context: { ...current.context, n } },
    transition: { fromState: current.state, toState: state, eventType: 'GO', event: { type: 'GO', n } },
  };
}

describe('writeSteps (one statement for the steps of several runs)', () => {
  it('writes every run whose row is still the version decided from, and leaves a moved-on row alone', async () => {
    const runs = await Promise.all([0, 1, 2].map(async () => (await store.createRun(newRun())).run));
    const versions = await Promise.all(runs.map((run) => rowVersionOf(run.id)));
    // Another writer moves the middle run on after its step was decided.
    await sql`update workflow.runs set context = context || '{"other": true}'::jsonb where id = ${runs[1]!.id}::uuid`.execute(scratch.db);

    const steps: StepToWrite[] = runs.map((run, i) => ({ run, decision: moveTo(run, 'plan', i), rowVersion: versions[i]! }));
    // No transition on the last step: the row only.
    const last = steps[2]!;
    steps[2] = { ...last, decision: { kind: 'update', position: last.decision.position, timeoutAt: new Date('2030-01-01T00:00:00Z') } };
    const written = await writeSteps(scratch.db, steps);

    expect(written[1]).toBeUndefined();
    expect(written[0]).toMatchObject({ outcome: { applied: true, run: { state: 'plan' }, transition: { seq: 1, fromState: 'intake', toState: 'plan' } } });
    expect(written[2]).toMatchObject({ outcome: { applied: true, run: { state: 'plan', timeoutAt: new Date('2030-01-01T00:00:00Z') }, transition: undefined } });
    expect(written[0]!.rowVersion).toBe(await rowVersionOf(runs[0]!.id));

    expect((await store.getRun(runs[0]!.id))?.context['n']).toBe(0);
    expect((await store.getRun(runs[1]!.id))?.state).toBe('intake');
    expect((await store.getHistory(runs[0]!.id)).map((h) => [h.seq, h.event])).toEqual([[1, { type: 'GO', n: 0 }]]);
    expect(await store.getHistory(runs[1]!.id)).toEqual([]);
    expect(await store.getHistory(runs[2]!.id)).toEqual([]);
  });

  it('numbers each run\'s history after its own last row', async () => {
    const runs = await Promise.all([0, 1].map(async () => (await store.createRun(newRun())).run));
    await store.applyToRun(runs[0]!.id, (current) => moveTo(current, 'plan'));
    await store.applyToRun(runs[0]!.id, (current) => moveTo(current, 'code'));
    const fresh = await Promise.all(runs.map(async (run) => (await store.getRun(run.id))!));
    const written = await writeSteps(
      scratch.db,
      await Promise.all(fresh.map(async (run) => ({ run, decision: moveTo(run, 'review'), rowVersion: await rowVersionOf(run.id) }))),
    );
    expect(written.map((w) => w?.outcome.applied && w.outcome.transition?.seq)).toEqual([3, 1]);
  });

  it('fails as a whole on a bad row, writing nothing', async () => {
    const runs = await Promise.all([0, 1].map(async () => (await store.createRun(newRun())).run));
    const steps = await Promise.all(runs.map(async (run) => ({ run, decision: moveTo(run, 'plan'), rowVersion: await rowVersionOf(run.id) })));
    // attempt > 0 is a check of the table.
    steps[1]!.decision.position.attempt = 0;
    await expect(writeSteps(scratch.db, steps)).rejects.toThrow(/attempt/);
    expect((await store.getRun(runs[0]!.id))?.state).toBe('intake');
    expect(await store.getHistory(runs[0]!.id)).toEqual([]);
  });
});

describe('PostgresRunStore with group commit', () => {
  it('applies concurrent steps of many runs, each in order, numbered without gaps', async () => {
    const runs = await Promise.all(Array.from({ length: 12 }, async () => (await store.createRun(newRun())).run));
    // Three steps per run, the runs' steps concurrent with each other.
    await Promise.all(
      runs.map(async (run) => {
        for (const n of [1, 2, 3]) await store.applyToRun(run.id, (current) => moveTo(current, current.state, n));
      }),
    );
    for (const run of runs) {
      expect((await store.getHistory(run.id)).map((h) => [h.seq, h.event['n']])).toEqual([
        [1, 1],
        [2, 2],
        [3, 3],
      ]);
    }
  });

  it('fails only the step whose own row is bad when it was batched with others', async () => {
    const runs = await Promise.all(Array.from({ length: 6 }, async () => (await store.createRun(newRun())).run));
    const outcomes = await Promise.allSettled(
      runs.map((run, i) =>
        store.applyToRun(run.id, (current) => {
          const decision = moveTo(current, 'plan');
          if (i === 3) decision.position.attempt = 0;
          return decision;
        }),
      ),
    );
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    for (const [i, run] of runs.entries()) {
      expect((await store.getRun(run.id))?.state).toBe(i === 3 ? 'intake' : 'plan');
    }
  });

  it('decides a step again on the stored row when another replica wrote it since', async () => {
    const replica = new PostgresRunStore(scratch.db);
    const runs = await Promise.all(Array.from({ length: 4 }, async () => (await store.createRun(newRun())).run));
    // The replica moves two runs on behind this store's cached copies.
    for (const run of [runs[1]!, runs[2]!]) await replica.applyToRun(run.id, (current) => moveTo(current, 'plan', 10));
    const outcomes = await Promise.all(runs.map((run) => store.applyToRun(run.id, (current) => moveTo(current, 'code', Number(current.context['n'] ?? 0) + 1))));
    expect(outcomes.map((o) => o?.applied && o.transition?.seq)).toEqual([1, 2, 2, 1]);
    expect(outcomes.map((o) => o?.run.context['n'])).toEqual([1, 11, 11, 1]);
  });

  it('records run.finished as published for every finished run of concurrent marks, and for no running run', async () => {
    const runs = await Promise.all(Array.from({ length: 5 }, async () => (await store.createRun(newRun())).run));
    for (const run of runs.slice(0, 4)) {
      await store.applyToRun(run.id, (current) => ({ kind: 'update', position: { ...current, status: 'done', state: 'done' } }));
    }
    await Promise.all(runs.map((run) => store.markFinishedPublished(run.id)));
    const flags = await Promise.all(runs.map(async (run) => (await store.getRun(run.id))?.finishedPublished));
    expect(flags).toEqual([true, true, true, true, false]);
  });

  it('knows the history of runs it wrote all of, and reads it again once another replica wrote', async () => {
    const replica = new PostgresRunStore(scratch.db);
    const { run } = await store.createRun(newRun());
    const first = await store.applyToRun(run.id, (current) => moveTo(current, 'plan', 1));
    const second = await store.applyToRun(run.id, (current) => moveTo(current, 'code', 2));
    expect(second?.applied && second.knownHistory?.().map((t) => [t.seq, t.toState, t.event])).toEqual([
      [1, 'plan', { type: 'GO', n: 1 }],
      [2, 'code', { type: 'GO', n: 2 }],
    ]);
    expect(first?.applied && second?.applied && second.knownHistory?.()).toEqual(await store.getHistory(run.id));

    await replica.applyToRun(run.id, (current) => moveTo(current, 'review', 3));
    // This store's copy is stale: the step is decided on the stored row, whose history it never saw.
    const fourth = await store.applyToRun(run.id, (current) => moveTo(current, 'done', 4));
    expect(fourth).toMatchObject({ applied: true, transition: { seq: 4 } });
    expect(fourth?.applied && fourth.knownHistory).toBeUndefined();
  });
});
