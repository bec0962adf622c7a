import { randomUUID } from 'node:crypto';
import { codingDefinition, contentHash, type RunPosition } from '../src/domain/index.js';
import { PostgresRunStore } from '../src/store/postgres-run-store.js';
import type { NewRun, RunDecision, RunRecord } from '../src/store/run-store.js';
import { newCodingRun } from './coding-run.js';
import { createScratchDatabase, type ScratchDatabase } from './scratch-database.js';

let scratch: ScratchDatabase;
let store: PostgresRunStore;

beforeAll(async () => {
  scratch = await createScratchDatabase();
  store = new PostgresRunStore(scratch.db);
});

afterAll(async () => {
  await scratch?.drop();
});

const newRun = newCodingRun;

describe('PostgresRunStore definitions', () => {
  it('versions a definition only when its content changes', async () => {
    const name = `def-${randomUUID()}`;
    const first = await store.saveDefinition(name, codingDefinition as Record<string, unknown>, contentHash(codingDefinition));
    expect(first).toMatchObject({ created: true, definition: { name, version: 1 } });

    // Same content, keys in another order: same hash, no new version.
    const reordered = Object.fromEntries(Object.entries(codingDefinition).reverse());
    const again = await store.saveDefinition(name, reordered, contentHash(reordered));
    expect(again).toMatchObject({ created: false, definition: { version: 1 } });

    const changed = { ...codingDefinition, description: 'changed' };
    const second = await store.saveDefinition(name, changed, contentHash(changed));
    expect(second).toMatchObject({ created: true, definition: { version: 2 } });

    expect((await store.getDefinition(name))?.version).toBe(2);
    expect((await store.getDefinition(name, 1))?.definition).toEqual(codingDefinition);
    expect(await store.getDefinition(name, 3)).toBeUndefined();
    const listed = (await store.listDefinitions()).filter((d) => d.name === name);
    expect(listed.map((d) => d.version)).toEqual([2]);
  });

  it('gives concurrent saves of different content distinct versions', async () => {
    const name = `def-${randomUUID()}`;
    const docs = [1, 2, 3, 4, 5].map((n) => ({ ...codingDefinition, description: `v${n}` }));
    const results = await Promise.all(docs.map((d) => store.saveDefinition(name, d, contentHash(d))));
    expect(results.map((r) => r.definition.version).sort()).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('PostgresRunStore runs', () => {
  let version: number;
  beforeAll(async () => {
    version = (await store.saveDefinition('coding', codingDefinition as Record<string, unknown>, contentHash(codingDefinition))).definition.version;
  });

  it('creates a run once per idempotency key', async () => {
    const key = `key-${randomUUID()}`;
    const a = await store.createRun(newRun(version, { idempotencyKey: key }));
    const b = await store.createRun(newRun(version, { idempotencyKey: key }));
    expect(a.created).toBe(true);
    expect(b.created).toBe(false);
    expect(b.run.id).toBe(a.run.id);
    // Runs without a key never collide.
    const c = await store.createRun(newRun(version));
    const d = await store.createRun(newRun(version));
    expect(c.created && d.created).toBe(true);
    expect((await store.getRun(a.run.id))?.state).toBe('intake');
    expect(await store.getRun('not-a-uuid')).toBeUndefined();
    expect(await store.getRun(randomUUID())).toBeUndefined();
  });

  it('writes the position and numbered history rows, or nothing when told to ignore', async () => {
    const { run } = await store.createRun(newRun(version));
    const position: RunPosition = { ...run, state: 'plan', visits: { intake: 1, plan: 1 }, context: { ...run.context, outputs: { intake: { a: 1 } } } };
    const first = await store.applyToRun(run.id, () => ({
      kind: 'update',
      position,
      transition: { fromState: 'intake', toState: 'plan', eventType: 'activity.done', event: { type: 'activity.done', output: { a: 1 } } },
    }));
    expect(first).toMatchObject({ applied: true, run: { state: 'plan', attempt: 1 }, transition: { seq: 1, fromState: 'intake', toState: 'plan' } });

    const ignored = await store.applyToRun(run.id, (current) => {
      expect(current.state).toBe('plan');
      return { kind: 'ignore', reason: 'stale' };
    });
    expect(ignored).toMatchObject({ applied: false, reason: 'stale' });

    const second = await store.applyToRun(run.id, (current) => ({
      kind: 'update',
      position: { ...current, state: 'code' },
      transition: { fromState: 'plan', toState: 'code', eventType: 'activity.done', event: { type: 'activity.done' } },
    }));
    expect(second?.applied && second.transition?.seq).toBe(2);

    const history = await store.getHistory(run.id);
    expect(history.map((h) => [h.seq, h.fromState, h.toState])).toEqual([
      [1, 'intake', 'plan'],
      [2, 'plan', 'code'],
    ]);
    expect(history[0]?.event).toEqual({ type: 'activity.done', output: { a: 1 } });
    expect((await store.getRun(run.id))?.context.outputs).toEqual({ intake: { a: 1 } });
    expect(await store.applyToRun(randomUUID(), () => ({ kind: 'ignore', reason: 'x' }))).toBeUndefined();
  });

  it('serializes concurrent applies to one run (row lock): no lost update, no duplicate seq', async () => {
    const { run } = await store.createRun(newRun(version));
    await Promise.all(
      Array.from({ length: 12 }, () =>
        store.applyToRun(run.id, (current) => {
          const n = Number(current.context['n'] ?? 0) + 1;
          return {
            kind: 'update',
            position: { ...current, context: { ...current.context, n } },
            transition: { fromState: current.state, toState: current.state, eventType: 'tick', event: { type: 'tick', n } },
          };
        }),
      ),
    );
    expect((await store.getRun(run.id))?.context['n']).toBe(12);
    const history = await store.getHistory(run.id);
    expect(history.map((h) => h.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(history.map((h) => h.event['n'])).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('decides each step from what is stored, even when another replica wrote since this store did', async () => {
    const replica = new PostgresRunStore(scratch.db);
    const { run } = await store.createRun(newRun(version));
    const tick = (by: string) => (current: RunRecord): RunDecision => ({
      kind: 'update',
      position: { ...current, context: { ...current.context, by: [...((current.context['by'] as string[] | undefined) ?? []), by] } },
      transition: { fromState: current.state, toState: current.state, eventType: 'tick', event: { type: 'tick', by } },
    });
    const first = await store.applyToRun(run.id, tick('a'));
    // What a caller does with the returned run does not leak into the next step.
    (first?.run.context['by'] as string[]).push('mutated by the caller');
    await replica.applyToRun(run.id, tick('b'));
    const third = await store.applyToRun(run.id, tick('a'));
    expect(third).toMatchObject({ applied: true, run: { context: { by: ['a', 'b', 'a'] } }, transition: { seq: 3 } });

    // The replica moves the run on; an ignore judged on this store's older copy would drop the step.
    await replica.applyToRun(run.id, (current) => ({
      kind: 'update',
      position: { ...current, state: 'plan' },
      transition: { fromState: current.state, toState: 'plan', eventType: 'GO', event: { type: 'GO' } },
    }));
    const judged: string[] = [];
    const step = await store.applyToRun(run.id, (current) => {
      judged.push(current.state);
      return current.state === 'plan' ? tick('a')(current) : { kind: 'ignore', reason: `not in plan but ${current.state}` };
    });
    expect(judged).toEqual(['intake', 'plan']);
    expect(step).toMatchObject({ applied: true, run: { state: 'plan' }, transition: { seq: 5 } });
    expect((await store.getHistory(run.id)).map((h) => h.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('serializes concurrent applies to one run from two replicas: no lost update, no duplicate seq', async () => {
    const replica = new PostgresRunStore(scratch.db);
    const { run } = await store.createRun(newRun(version));
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        (i % 2 === 0 ? store : replica).applyToRun(run.id, (current) => {
          const n = Number(current.context['n'] ?? 0) + 1;
          return { kind: 'update', position: { ...current, context: { ...current.context, n } }, transition: { fromState: current.state, toState: current.state, eventType: 'tick', event: { type: 'tick', n } } };
        }),
      ),
    );
    expect((await store.getRun(run.id))?.context['n']).toBe(12);
    expect((await store.getHistory(run.id)).map((h) => h.event['n'])).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('lists runs by status, newest first, and running runs page by page', async () => {
    const made = [];
    for (let i = 0; i < 3; i++) made.push((await store.createRun(newRun(version))).run);
    await store.applyToRun(made[0]!.id, (current) => ({ kind: 'update', position: { ...current, status: 'cancelled', state: 'cancelled' } }));
    const cancelled = await store.listRuns({ limit: 100, status: 'cancelled' });
    expect(cancelled.map((r) => r.id)).toContain(made[0]!.id);
    expect(cancelled.every((r) => r.status === 'cancelled')).toBe(true);
    const newest = await store.listRuns({ limit: 1 });
    expect(newest[0]?.id).toBe(made[2]!.id);

    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await store.listRunning(after, 2);
      if (page.length === 0) break;
      seen.push(...page.map((r) => r.id));
      after = page[page.length - 1]!.id;
    }
    expect(seen).toEqual([...seen].sort());
    expect(seen).toEqual(expect.arrayContaining([made[1]!.id, made[2]!.id]));
    expect(seen).not.toContain(made[0]!.id);
  });

  it('finds runs past their activity deadline, and skips (does not wait for) a run another transaction holds', async () => {
    const now = new Date();
    const due = (await store.createRun(newRun(version, { timeoutAt: new Date(now.getTime() - 1000) }))).run;
    const notYet = (await store.createRun(newRun(version, { timeoutAt: new Date(now.getTime() + 60_000) }))).run;
    const listed = (await store.listTimedOut(now, 1000)).map((r) => r.id);
    expect(listed).toContain(due.id);
    expect(listed).not.toContain(notYet.id);
    expect(await store.applyToTimedOutRun(notYet.id, now, () => ({ kind: 'ignore', reason: 'not due' }))).toBeUndefined();

    // While a result is being applied to the run (its row locked), the sweep moves on at once.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked: () => void = () => undefined;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holder = scratch.db.transaction().execute(async (trx) => {
      await trx.selectFrom('workflow.runs').select('id').where('id', '=', due.id).forUpdate().execute();
      locked();
      await held;
    });
    await isLocked;
    const whileHeld = await store.applyToTimedOutRun(due.id, now, () => {
      throw new Error('must not decide on a run another transaction holds');
    });
    release();
    await holder;
    expect(whileHeld).toBeUndefined();

    // Free again: decided under the lock; an ignore that clears the deadline leaves it undiscoverable.
    const cleared = await store.applyToTimedOutRun(due.id, now, () => ({ kind: 'ignore', reason: 'no handler', clearTimeout: true }));
    expect(cleared).toMatchObject({ applied: false, reason: 'no handler', run: { timeoutAt: null } });
    expect((await store.listTimedOut(now, 1000)).map((r) => r.id)).not.toContain(due.id);
    expect(await store.getRun(due.id)).toMatchObject({ timeoutAt: null, updatedAt: due.updatedAt });
  });

  it('keeps the deadline a decision gives, and reports finished runs whose run.finished is not recorded as published', async () => {
    const { run } = await store.createRun(newRun(version));
    expect(run).toMatchObject({ timeoutAt: null, finishedPublished: false });
    const deadline = new Date(Date.now() + 5000);
    const moved = await store.applyToRun(run.id, (current) => ({ kind: 'update', position: current, timeoutAt: deadline }));
    expect(moved?.run.timeoutAt?.getTime()).toBe(deadline.getTime());

    await store.applyToRun(run.id, (current) => ({ kind: 'update', position: { ...current, status: 'cancelled', state: 'cancelled' }, timeoutAt: null }));
    expect((await store.listFinishedUnpublished(60_000, undefined, 1000)).map((r) => r.id)).toContain(run.id);
    await store.markFinishedPublished(run.id);
    expect((await store.listFinishedUnpublished(60_000, undefined, 1000)).map((r) => r.id)).not.toContain(run.id);
    expect(await store.getRun(run.id)).toMatchObject({ finishedPublished: true, timeoutAt: null });
  });
});
