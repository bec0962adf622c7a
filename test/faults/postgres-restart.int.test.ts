/**
 * Fault: the private PostgreSQL crashes (immediate shutdown, SIGQUIT: recovery at the next
 * start) just as the gate opens and subtasks finish, so results, transitions and task updates
 * meet a database that is gone; it is started again a moment later. Every accepted task ends
 * once, each subtask commits once.
 */
import { Subjects, WorkStepEventSchema, type WorkStepEvent } from '@maestro/contracts';
import { Gate, startFaultCluster, type FaultCluster } from './fault-cluster.js';
import { isClean } from './jepsen-table.js';
import { waitUntil } from './private-servers.js';
import { Workload, report, writeFaultScript } from './workload.js';

jest.setTimeout(420_000);

const SCENARIO = 'postgres-restart';
const gate = new Gate();
let fc: FaultCluster;
let workload: Workload;

beforeAll(async () => {
  fc = await startFaultCluster({ scenario: SCENARIO, scriptPath: writeFaultScript({ gateFile: gate.file }) });
  workload = new Workload(fc, SCENARIO);
});

afterAll(async () => {
  await fc?.stop();
  workload?.cleanup();
  gate.remove();
});

it('loses and repeats nothing when PostgreSQL crashes mid-transition', async () => {
  const steps: WorkStepEvent[] = [];
  const sub = fc.bus.subscribe(Subjects.workStep, WorkStepEventSchema, (e) => steps.push(e));
  for (let i = 0; i < 3; i++) await workload.submit();
  expect(workload.ops.map((op) => op.outcome)).toEqual(['ok', 'ok', 'ok']);
  await waitUntil('subtasks in the middle of their work', () => steps.filter((e) => e.kind === 'tool' && e.tool === 'fs.write').length >= 2);

  gate.open();
  // The subtasks now commit, merge and report; the database goes as their results arrive.
  await waitUntil('a subtask to commit', () => steps.some((e) => e.kind === 'tool' && e.tool === 'git.commit'));
  await fc.postgres.kill('SIGQUIT');
  await new Promise((r) => setTimeout(r, 3_000));
  await fc.postgres.start();

  await workload.settle();
  const records = await workload.observe(fc.bus);
  sub.unsubscribe();
  const row = report(SCENARIO, records, [`logs: ${fc.logDir}`, 'PostgreSQL crashed (SIGQUIT) after the first commit and was down for about 3 s']);

  expect(row.problems).toEqual([]);
  expect(isClean(row)).toBe(true);
  expect(row.terminal.done).toBe(3);
});
