/**
 * Fault: an executor is paused (SIGSTOP) in the middle of a subtask for longer than its work
 * lease, so the lease expires and the other executor redoes the subtask; then it is resumed
 * (SIGCONT) and must find its lease gone and land nothing: its late work must not commit twice.
 */
import { LockEventSchema, Subjects, WorkFinishedEventSchema, WorkStepEventSchema, type LockEvent, type WorkFinishedEvent, type WorkStepEvent } from '@maestro/contracts';
import { Gate, startFaultCluster, type FaultCluster } from './fault-cluster.js';
import { isClean } from './jepsen-table.js';
import { waitUntil } from './private-servers.js';
import { Workload, report, writeFaultScript } from './workload.js';

jest.setTimeout(420_000);

const SCENARIO = 'executor-stop';
const gate = new Gate();
let fc: FaultCluster;
let workload: Workload;
let stopped: number | undefined;

beforeAll(async () => {
  fc = await startFaultCluster({ scenario: SCENARIO, scriptPath: writeFaultScript({ gateFile: gate.file }), executors: 2, executorConcurrency: 1 });
  workload = new Workload(fc, SCENARIO);
});

afterAll(async () => {
  // Never leave a stopped process behind: it would not even stop on SIGTERM.
  if (stopped !== undefined) process.kill(stopped, 'SIGCONT');
  await fc?.stop();
  workload?.cleanup();
  gate.remove();
});

it("does not land a paused executor's late work once its lease has passed to another", async () => {
  const steps: WorkStepEvent[] = [];
  const finished: WorkFinishedEvent[] = [];
  const expired: LockEvent[] = [];
  const subs = [
    fc.bus.subscribe(Subjects.workStep, WorkStepEventSchema, (e) => steps.push(e)),
    fc.bus.subscribe(Subjects.workFinished, WorkFinishedEventSchema, (e) => finished.push(e)),
    fc.bus.subscribe(Subjects.lockExpired, LockEventSchema, (e) => expired.push(e)),
  ];
  for (let i = 0; i < 2; i++) await workload.submit();
  expect(workload.ops.map((op) => op.outcome)).toEqual(['ok', 'ok']);

  const midSubtask = (e: WorkStepEvent): boolean => e.executorId === 'executor-1' && e.kind === 'tool' && e.tool === 'fs.write';
  await waitUntil('executor-1 in the middle of a subtask', () => steps.some(midSubtask));
  const victim = steps.find(midSubtask)!;
  const executor1 = fc.process('executor-1');
  process.kill(executor1.pid, 'SIGSTOP');
  stopped = executor1.pid;

  // Past its lease: the lock-manager expires executor-1's work lease on the subtask.
  const workConcern = (e: LockEvent): boolean => e.owner.startsWith('executor:executor-1:') && e.concerns.some((c) => c.startsWith('resource:work/') && c.endsWith(`/${victim.subtaskId}`));
  await waitUntil("executor-1's work lease to expire", () => expired.some(workConcern), 90_000);
  gate.open();
  await waitUntil('the other executor to finish the subtask', () =>
    finished.some((e) => e.taskId === victim.taskId && e.subtaskId === victim.subtaskId && e.executorId === 'executor-2'), 120_000);

  process.kill(executor1.pid, 'SIGCONT');
  stopped = undefined;
  // Resumed, it finds out at its next extension (or its merge's fence check) and stops.
  const refused = (): boolean => /"code":"(LOCK_NOT_HELD|FENCED)"|work lease lost/.test(fc.log('executor-1'));
  await waitUntil('executor-1 to find its lease gone', refused, 60_000);

  await workload.settle();
  const records = await workload.observe(fc.bus);
  subs.forEach((s) => s.unsubscribe());
  const late = finished.filter((e) => e.taskId === victim.taskId && e.subtaskId === victim.subtaskId && e.executorId === 'executor-1');
  const row = report(SCENARIO, records, [`logs: ${fc.logDir}`, 
    `executor-1 SIGSTOPped in subtask ${victim.subtaskId} of task ${victim.taskId}, its work lease expired, executor-2 finished the subtask, then SIGCONT`,
    `work.finished events of executor-1 for that subtask after it resumed: ${late.length} (${late.map((e) => `ok=${e.ok}`).join(', ')})`,
  ]);

  expect(row.problems).toEqual([]);
  expect(isClean(row)).toBe(true);
  expect(row.terminal.done).toBe(2);
  expect(late.filter((e) => e.ok)).toEqual([]);
});
