import { randomUUID } from 'node:crypto';
import { createDb, migrateToLatest, type Kysely } from '@maestro/db';
import { createSilentLogger } from '@maestro/runtime';
import { createTestDatabase } from '@maestro/testing';
import { codingDefinition, contentHash, defaultRegistries, parseDefinition, startRunMachine } from '../src/domain/index.js';
import { migrateWorkflowSchema, WORKFLOW_SCHEMA, workflowMigrations } from '../src/store/migrations.js';
import { PostgresRunStore } from '../src/store/postgres-run-store.js';
import type { WorkflowDatabase } from '../src/store/workflow-database.js';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let db: Kysely<WorkflowDatabase>;

beforeAll(async () => {
  database = await createTestDatabase('workflow_engine_migrations_test');
  db = createDb<WorkflowDatabase>({ url: database.url, maxConnections: 3 });
});

afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

describe('workflow migrations', () => {
  it('0004 un-marks running runs that 0003 took as published, and finishing such a run owes its run.finished again', async () => {
    // A database as 0003 left it, with one running and one finished run from before 0003.
    const upTo0003 = Object.fromEntries(Object.entries(workflowMigrations).filter(([name]) => name < '0004'));
    await migrateToLatest(db, { schema: WORKFLOW_SCHEMA, migrations: upTo0003, logger: createSilentLogger() });
    const store = new PostgresRunStore(db);
    // Written as the store of that time wrote it (no tenant column yet).
    const record = await db
      .insertInto('workflow.definitions')
      .values({ name: 'coding', version: 1, definition: JSON.stringify(codingDefinition), source: JSON.stringify(codingDefinition), hash: contentHash(codingDefinition) })
      .returning('version')
      .executeTakeFirstOrThrow();
    const start = startRunMachine({ definition: parseDefinition(codingDefinition, defaultRegistries), registries: defaultRegistries }, { taskId: 't' });
    const newRun = () => ({
      id: randomUUID(),
      definitionName: 'coding',
      definitionVersion: record.version,
      snapshot: start.snapshot,
      state: start.state,
      status: start.status,
      attempt: start.attempt,
      visits: start.visits,
      context: start.context,
    });
    // Rows written as the store of that time wrote them (no trace_parent column yet).
    const insertOld = async (run: ReturnType<typeof newRun>) => {
      await db
        .insertInto('workflow.runs')
        .values({
          id: run.id,
          definition_name: run.definitionName,
          definition_version: run.definitionVersion,
          status: run.status,
          state: run.state,
          attempt: run.attempt,
          visits: JSON.stringify(run.visits),
          snapshot: JSON.stringify(run.snapshot),
          context: JSON.stringify(run.context),
        })
        .execute();
      return run;
    };
    const running = await insertOld(newRun());
    const done = await insertOld(newRun());
    await db.updateTable('workflow.runs').set({ status: 'done', state: 'done' }).where('id', '=', done.id).execute();
    // What 0003 did to every row that existed when it ran.
    await db.updateTable('workflow.runs').set({ finished_published: true }).execute();

    expect(await migrateWorkflowSchema(db, createSilentLogger())).toEqual(['0004_finished_published_running', '0005_run_trace_and_paging', '0006_tenants']);
    // 0005: older runs have no trace. 0006: older runs belong to `default`, older definitions are shared.
    expect(await store.getRun(running.id)).toMatchObject({ status: 'running', finishedPublished: false, traceParent: null, tenant: 'default', definitionTenant: '' });
    expect(await store.getDefinition('coding', record.version)).toMatchObject({ tenant: '' });
    expect(await store.getRun(done.id)).toMatchObject({ status: 'done', finishedPublished: true });

    // Even a running row still (wrongly) marked published is owed its run.finished once it finishes.
    await db.updateTable('workflow.runs').set({ finished_published: true }).where('id', '=', running.id).execute();
    await store.applyToRun(running.id, (current) => ({ kind: 'update', position: { ...current, status: 'cancelled', state: 'cancelled' }, timeoutAt: null }));
    expect(await store.getRun(running.id)).toMatchObject({ status: 'cancelled', finishedPublished: false });
    expect((await store.listFinishedUnpublished(60_000, undefined, 1000)).map((r) => r.id)).toEqual([running.id]);
  });
});
