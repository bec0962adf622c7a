/**
 * The one contract every `RunStore` adapter passes (`InMemoryRunStore` in its unit test,
 * `PostgresRunStore` in `test/postgres-run-store.int.test.ts`): definition versions, idempotent
 * run creation, ListRuns filters and keyset paging, history pages, the one-transaction step,
 * activity deadlines and the `run.finished` bookkeeping. Not part of the build (jest globals).
 */
import { randomUUID } from 'node:crypto';
import { codingDefinition, contentHash, defaultRegistries, parseDefinition, startRunMachine, type RunDecision } from '../domain/index.js';
import type { NewRun, RunRecord, RunStore } from './run-store.js';

/** What a contract run needs from an adapter: a store with nothing in it, and how to free it. */
export interface RunStoreHarness {
  store: RunStore;
  close(): Promise<void>;
}

const definition = parseDefinition(codingDefinition, defaultRegistries);
const documentOf = (description: string): Record<string, unknown> => ({ ...(codingDefinition as Record<string, unknown>), description });

/** Runs the RunStore contract against the adapter `factory` makes, one empty store per test. */
export function defineRunStoreContract(name: string, factory: () => Promise<RunStoreHarness>): void {
  describe(`RunStore contract: ${name}`, () => {
    let h: RunStoreHarness;
    let store: RunStore;

    beforeEach(async () => {
      h = await factory();
      store = h.store;
    });
    afterEach(async () => {
      await h.close();
    });

    async function saveVersion(definitionName: string, description: string): Promise<number> {
      const document = documentOf(description);
      return (await store.saveDefinition(definitionName, document, contentHash(document))).definition.version;
    }

    function newRun(definitionName: string, version: number, overrides: Partial<NewRun> = {}): NewRun {
      const start = startRunMachine({ definition, registries: defaultRegistries }, { taskId: 't' });
      const { snapshot, state, status, attempt, visits, context } = start;
      return { id: randomUUID(), definitionName, definitionVersion: version, snapshot, state, status, attempt, visits, context, ...overrides };
    }

    /** A decision that moves the run to `state` (with `status`), as a step would. */
    function moveTo(run: RunRecord, state: string, status: RunRecord['status'] = 'running', timeoutAt?: Date | null): RunDecision {
      return {
        kind: 'update',
        position: { snapshot: run.snapshot, state, status, attempt: 1, visits: { ...run.visits, [state]: 1 }, context: run.context },
        transition: { fromState: run.state, toState: state, eventType: 'GO', event: { type: 'GO' } },
        ...(timeoutAt !== undefined ? { timeoutAt } : {}),
      };
    }

    describe('definitions', () => {
      it('stores a new version only when the content hash changes', async () => {
        expect(await saveVersion('coding', 'one')).toBe(1);
        expect(await saveVersion('coding', 'one')).toBe(1);
        expect(await saveVersion('coding', 'two')).toBe(2);
        expect((await store.getDefinition('coding'))?.version).toBe(2);
        expect((await store.getDefinition('coding', 1))?.definition).toEqual(documentOf('one'));
        expect(await store.getDefinition('coding', 3)).toBeUndefined();
        expect(await store.getDefinition('missing')).toBeUndefined();
      });

      it('lists the latest version of each name, and every version of one name newest first', async () => {
        await saveVersion('b-flow', 'one');
        await saveVersion('a-flow', 'one');
        await saveVersion('b-flow', 'two');
        expect((await store.listDefinitions()).map((d) => [d.name, d.version])).toEqual([
          ['a-flow', 1],
          ['b-flow', 2],
        ]);
        expect((await store.listDefinitionVersions('b-flow')).map((d) => d.version)).toEqual([2, 1]);
        expect(await store.listDefinitionVersions('nothing')).toEqual([]);
      });

      it('keeps a version line per tenant: shared by default, a tenant\'s own beside it', async () => {
        const shared = documentOf('shared');
        const own = documentOf('own');
        expect((await store.saveDefinition('coding', shared, contentHash(shared))).definition).toMatchObject({ tenant: '', version: 1 });
        expect((await store.saveDefinition('coding', own, contentHash(own), 'acme')).definition).toMatchObject({ tenant: 'acme', version: 1 });
        expect((await store.saveDefinition('coding', shared, contentHash(shared), 'acme')).definition).toMatchObject({ tenant: 'acme', version: 2 });
        expect((await store.getDefinition('coding'))?.definition).toEqual(shared);
        expect((await store.getDefinition('coding', 1, 'acme'))?.definition).toEqual(own);
        expect((await store.getDefinition('coding', undefined, 'acme'))?.version).toBe(2);
        expect(await store.getDefinition('coding', undefined, 'other')).toBeUndefined();
        expect((await store.listDefinitionVersions('coding', 'acme')).map((d) => d.version)).toEqual([2, 1]);
        expect((await store.listDefinitionVersions('coding')).map((d) => d.version)).toEqual([1]);
        await saveVersion('b-flow', 'one');
        expect((await store.listDefinitions()).map((d) => [d.name, d.tenant, d.version])).toEqual([
          ['b-flow', '', 1],
          ['coding', '', 1],
          ['coding', 'acme', 2],
        ]);
        expect((await store.listDefinitions(['acme'])).map((d) => [d.name, d.tenant])).toEqual([['coding', 'acme']]);
        expect(await store.listDefinitions([])).toEqual([]);
      });
    });

    describe('runs', () => {
      it('creates a run once per idempotency key and keeps its trace parent', async () => {
        const version = await saveVersion('coding', 'one');
        const traceParent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
        const first = await store.createRun(newRun('coding', version, { idempotencyKey: 'task-1', traceParent }));
        expect(first).toMatchObject({ created: true, run: { status: 'running', state: 'intake', idempotencyKey: 'task-1', traceParent, finishedPublished: false, timeoutAt: null } });
        const again = await store.createRun(newRun('coding', version, { idempotencyKey: 'task-1' }));
        expect(again).toMatchObject({ created: false, run: { id: first.run.id } });
        expect((await store.createRun(newRun('coding', version))).run.traceParent).toBeNull();
        expect(await store.getRun(first.run.id)).toEqual(first.run);
        expect(await store.getRun(randomUUID())).toBeUndefined();
        expect(await store.getRun('not-a-uuid')).toBeUndefined();
      });

      it('keeps runs per tenant: idempotency keys, the pinned definition\'s tenant, ListRuns filtered by tenant', async () => {
        const sharedVersion = await saveVersion('coding', 'shared');
        const own = documentOf('own');
        const ownVersion = (await store.saveDefinition('coding', own, contentHash(own), 'acme')).definition.version;
        const byDefault = await store.createRun(newRun('coding', sharedVersion, { idempotencyKey: 'task-1' }));
        expect(byDefault.run).toMatchObject({ tenant: 'default', definitionTenant: '' });
        const acme = await store.createRun(newRun('coding', ownVersion, { tenant: 'acme', definitionTenant: 'acme', idempotencyKey: 'task-1' }));
        expect(acme).toMatchObject({ created: true, run: { tenant: 'acme', definitionTenant: 'acme' } });
        expect(acme.run.id).not.toBe(byDefault.run.id);
        const again = await store.createRun(newRun('coding', ownVersion, { tenant: 'acme', definitionTenant: 'acme', idempotencyKey: 'task-1' }));
        expect(again).toMatchObject({ created: false, run: { id: acme.run.id } });
        const other = (await store.createRun(newRun('coding', sharedVersion, { tenant: 'other' }))).run;
        expect(await store.getRun(other.id)).toMatchObject({ tenant: 'other', definitionTenant: '' });

        const ids = async (tenant?: string) => new Set((await store.listRuns({ limit: 10, ...(tenant !== undefined ? { tenant } : {}) })).map((r) => r.id));
        expect(await ids('acme')).toEqual(new Set([acme.run.id]));
        expect(await ids('other')).toEqual(new Set([other.id]));
        expect(await ids('nobody')).toEqual(new Set());
        expect(await ids()).toEqual(new Set([byDefault.run.id, acme.run.id, other.id]));
      });

      it('lists runs newest first, filtered by status, definition and version', async () => {
        const v1 = await saveVersion('coding', 'one');
        const v2 = await saveVersion('coding', 'two');
        const other = await saveVersion('other', 'one');
        const a = (await store.createRun(newRun('coding', v1))).run;
        const b = (await store.createRun(newRun('coding', v2))).run;
        const c = (await store.createRun(newRun('other', other))).run;
        await store.applyToRun(b.id, (run) => moveTo(run, 'done', 'done'));

        const ids = async (query: Parameters<RunStore['listRuns']>[0]) => (await store.listRuns(query)).map((r) => r.id);
        expect(new Set(await ids({ limit: 10 }))).toEqual(new Set([a.id, b.id, c.id]));
        expect(await ids({ limit: 10, status: 'done' })).toEqual([b.id]);
        expect(new Set(await ids({ limit: 10, definitionName: 'coding' }))).toEqual(new Set([a.id, b.id]));
        expect(await ids({ limit: 10, definitionName: 'coding', definitionVersion: v1 })).toEqual([a.id]);
        expect(await ids({ limit: 10, definitionName: 'coding', definitionVersion: v2, status: 'running' })).toEqual([]);
        expect(await ids({ limit: 10, definitionName: 'nothing' })).toEqual([]);
      });

      it('pages by keyset: every run exactly once, newest first, in created order then id', async () => {
        const version = await saveVersion('coding', 'one');
        for (let i = 0; i < 7; i++) await store.createRun(newRun('coding', version));
        const all = await store.listRuns({ limit: 100 });
        expect(all).toHaveLength(7);
        for (let i = 1; i < all.length; i++) {
          const [newer, older] = [all[i - 1]!, all[i]!];
          const ordered = newer.createdAt.getTime() > older.createdAt.getTime() || (newer.createdAt.getTime() === older.createdAt.getTime() && newer.id > older.id);
          expect(ordered).toBe(true);
        }
        const paged: string[] = [];
        let afterId: string | undefined;
        for (;;) {
          const page = await store.listRuns({ limit: 3, ...(afterId !== undefined ? { afterId } : {}) });
          paged.push(...page.map((r) => r.id));
          if (page.length < 3) break;
          afterId = page[page.length - 1]!.id;
        }
        expect(paged).toEqual(all.map((r) => r.id));
        expect(await store.listRuns({ limit: 3, afterId: all[all.length - 1]!.id })).toEqual([]);
        expect(await store.listRuns({ limit: 3, afterId: randomUUID() })).toEqual([]);
      });
    });

    describe('steps and history', () => {
      it('writes the decided position and numbered history rows; ignores write nothing', async () => {
        const version = await saveVersion('coding', 'one');
        const { run } = await store.createRun(newRun('coding', version));
        const first = await store.applyToRun(run.id, (current) => moveTo(current, 'plan'));
        expect(first).toMatchObject({ applied: true, run: { state: 'plan' }, transition: { runId: run.id, seq: 1, fromState: 'intake', toState: 'plan', eventType: 'GO', event: { type: 'GO' } } });
        const second = await store.applyToRun(run.id, (current) => moveTo(current, 'code'));
        expect(second).toMatchObject({ applied: true, transition: { seq: 2, fromState: 'plan', toState: 'code' } });
        const ignored = await store.applyToRun(run.id, () => ({ kind: 'ignore', reason: 'not handled' }));
        expect(ignored).toMatchObject({ applied: false, reason: 'not handled', run: { state: 'code' } });
        // A context-only change updates the run without a history row.
        const quiet = await store.applyToRun(run.id, (current) => ({ kind: 'update', position: { ...current, context: { ...current.context, note: 'x' } } }));
        expect(quiet).toMatchObject({ applied: true, transition: undefined, run: { context: { note: 'x' } } });
        expect((await store.getHistory(run.id)).map((t) => t.seq)).toEqual([1, 2]);
        expect(await store.applyToRun(randomUUID(), (current) => moveTo(current, 'x'))).toBeUndefined();
        expect(await store.applyToRun('not-a-uuid', (current) => moveTo(current, 'x'))).toBeUndefined();
      });

      it('gives, with a step, only the history a read would give', async () => {
        const version = await saveVersion('coding', 'one');
        const { run } = await store.createRun(newRun('coding', version));
        for (const state of ['plan', 'code', 'review']) {
          const step = await store.applyToRun(run.id, (current) => moveTo(current, state));
          // Optional: a store that does not know the history without a read gives none.
          if (step?.applied && step.knownHistory !== undefined) expect(step.knownHistory()).toEqual(await store.getHistory(run.id));
        }
        const quiet = await store.applyToRun(run.id, (current) => ({ kind: 'update', position: { ...current, context: { ...current.context, note: 'x' } } }));
        if (quiet?.applied && quiet.knownHistory !== undefined) expect(quiet.knownHistory()).toEqual(await store.getHistory(run.id));
      });

      it('pages history by seq', async () => {
        const version = await saveVersion('coding', 'one');
        const { run } = await store.createRun(newRun('coding', version));
        for (const state of ['a', 'b', 'c', 'd', 'e']) await store.applyToRun(run.id, (current) => moveTo(current, state));
        expect((await store.getHistory(run.id, { afterSeq: 0, limit: 2 })).map((t) => t.seq)).toEqual([1, 2]);
        expect((await store.getHistory(run.id, { afterSeq: 2, limit: 2 })).map((t) => t.toState)).toEqual(['c', 'd']);
        expect((await store.getHistory(run.id, { afterSeq: 4 })).map((t) => t.seq)).toEqual([5]);
        expect(await store.getHistory(run.id, { afterSeq: 5, limit: 2 })).toEqual([]);
        expect(await store.getHistory(randomUUID())).toEqual([]);
      });

      it('owes run.finished once a run finishes, until it is marked published', async () => {
        const version = await saveVersion('coding', 'one');
        const { run } = await store.createRun(newRun('coding', version));
        await store.markFinishedPublished(run.id);
        expect((await store.getRun(run.id))?.finishedPublished).toBe(false); // running runs publish no run.finished
        await store.applyToRun(run.id, (current) => moveTo(current, 'cancelled', 'cancelled', null));
        expect((await store.listFinishedUnpublished(60_000, undefined, 10)).map((r) => r.id)).toEqual([run.id]);
        await store.markFinishedPublished(run.id);
        expect(await store.getRun(run.id)).toMatchObject({ status: 'cancelled', finishedPublished: true });
        expect(await store.listFinishedUnpublished(60_000, undefined, 10)).toEqual([]);
      });

      it('counts running runs, at most up to a cap', async () => {
        const version = await saveVersion('coding', 'one');
        const before = await store.countRunning(1000);
        const runs = await Promise.all([1, 2, 3].map(() => store.createRun(newRun('coding', version))));
        expect(await store.countRunning(1000)).toBe(before + 3);
        await store.applyToRun(runs[0]!.run.id, (current) => moveTo(current, 'cancelled', 'cancelled', null));
        expect(await store.countRunning(1000)).toBe(before + 2);
        expect(await store.countRunning(1)).toBe(1);
      });
    });

    describe('activity deadlines', () => {
      const past = new Date(Date.now() - 60_000);
      const now = new Date();
      const later = new Date(Date.now() + 60_000);

      it('lists due running runs earliest first and applies a step only while the run is still due', async () => {
        const version = await saveVersion('coding', 'one');
        const due = (await store.createRun(newRun('coding', version, { timeoutAt: past }))).run;
        const dueLater = (await store.createRun(newRun('coding', version, { timeoutAt: new Date(past.getTime() + 1000) }))).run;
        await store.createRun(newRun('coding', version, { timeoutAt: later }));
        await store.createRun(newRun('coding', version));
        expect((await store.listTimedOut(now, 10)).map((r) => r.id)).toEqual([due.id, dueLater.id]);
        expect((await store.listTimedOut(now, 1)).map((r) => r.id)).toEqual([due.id]);

        const outcome = await store.applyToTimedOutRun(due.id, now, (run) => moveTo(run, 'failed', 'failed', null));
        expect(outcome).toMatchObject({ applied: true, run: { status: 'failed', timeoutAt: null } });
        // No longer running (nor due): nothing to apply.
        expect(await store.applyToTimedOutRun(due.id, now, (run) => moveTo(run, 'x'))).toBeUndefined();
        expect(await store.applyToTimedOutRun(dueLater.id, past, (run) => moveTo(run, 'x'))).toBeUndefined();
      });

      it('clears a deadline on an ignore that asks for it, and postpones only a due deadline', async () => {
        const version = await saveVersion('coding', 'one');
        const a = (await store.createRun(newRun('coding', version, { timeoutAt: past }))).run;
        const b = (await store.createRun(newRun('coding', version, { timeoutAt: past }))).run;
        const ignored = await store.applyToTimedOutRun(a.id, now, () => ({ kind: 'ignore', reason: 'keeps waiting', clearTimeout: true }));
        expect(ignored).toMatchObject({ applied: false, run: { timeoutAt: null } });
        expect((await store.getRun(a.id))?.timeoutAt).toBeNull();

        expect(await store.postponeTimeout(b.id, now, later)).toBe(true);
        expect((await store.getRun(b.id))?.timeoutAt?.getTime()).toBe(later.getTime());
        expect(await store.postponeTimeout(b.id, now, later)).toBe(false);
        expect(await store.listTimedOut(now, 10)).toEqual([]);
      });
    });
  });
}
