/**
 * Fault: an executor is SIGKILLed in the middle of a subtask (its agent waiting at the gate
 * between its write and its commit). Its work lease runs out and the other executor takes the
 * redelivered work. Every accepted task ends once, each subtask commits once.
 */
import { Subjects, WorkFinishedEventSchema, WorkStepEventSchema, type WorkFinishedEvent, type WorkStepEvent } from '@maestro/contracts';
import { Gate, startFaultCluster, type FaultCluster } from './fault-cluster.js';
import { isClean } from './jepsen-table.js';
import { waitUntil } from './private-servers.js';
import { Workload, report, writeFaultScript } from './workload.js';

jest.setTimeout(420_000);

const SCENARIO = 'executor-kill';
const TASKS = 3;
const gate = new Gate();
let fc: FaultCluster;
let workload: Workload;

beforeAll(async () => {
  fc = await startFaultCluster({ scenario: SCENARIO, scriptPath: writeFaultScript({ gateFile: gate.file }), executors: 2, executorConcurrency: 1 });
  workload = new Workload(fc, SCENARIO);
});

afterAll(async () => {
  await fc?.stop();
  workload?.cleanup();
  gate.remove();
});

/** How long after `killedAt` another executor's first step of the victim's subtask came, as text. */
function reclaimDelay(steps: readonly WorkStepEvent[], victim: WorkStepEvent, killedAt: number): string {
  const first = steps.find((e) => e.taskId === victim.taskId && e.subtaskId === victim.subtaskId && e.executorId !== victim.executorId);
  return first === undefined ? '(never seen)' : `${((Date.parse(first.at) - killedAt) / 1000).toFixed(1)} s`;
}

it('loses and repeats nothing when an executor is SIGKILLed mid-subtask', async () => {
  const steps: WorkStepEvent[] = [];
  const finished: WorkFinishedEvent[] = [];
  const subs = [
    fc.bus.subscribe(Subjects.workStep, WorkStepEventSchema, (e) => steps.push(e)),
    fc.bus.subscribe(Subjects.workFinished, WorkFinishedEventSchema, (e) => finished.push(e)),
  ];
  for (let i = 0; i < TASKS; i++) await workload.submit();
  expect(workload.ops.map((op) => [op.outcome, op.detail])).toEqual(workload.ops.map(() => ['ok', undefined]));

  const midSubtask = (e: WorkStepEvent): boolean => e.executorId === 'executor-1' && e.kind === 'tool' && e.tool === 'fs.write';
  await waitUntil('executor-1 in the middle of a subtask', () => steps.some(midSubtask));
  const victim = steps.find(midSubtask)!;
  const killedAt = Date.now();
  await fc.kill('executor-1');
  gate.open();

  await workload.settle();
  const records = await workload.observe(fc.bus);
  subs.forEach((s) => s.unsubscribe());
  const redone = finished.filter((e) => e.taskId === victim.taskId && e.subtaskId === victim.subtaskId);
  const row = report(SCENARIO, records, [`logs: ${fc.logDir}`, 
    `executor-1 SIGKILLed while in subtask ${victim.subtaskId} of task ${victim.taskId}`,
    `that subtask finished by: ${redone.map((e) => `${e.executorId} (ok=${e.ok})`).join(', ') || 'nobody seen'}`,
    // Printed, not asserted: how soon the dead executor's work was taken up (its work lease and ack wait are 10 s here).
    `taken up again ${reclaimDelay(steps, victim, killedAt)} after the SIGKILL`,
  ]);

  expect(row.problems).toEqual([]);
  expect(isClean(row)).toBe(true);
  expect(row.ok).toBe(TASKS);
  expect(row.terminal.done).toBe(TASKS);
  // The killed executor's subtask was finished by the other one.
  expect(redone).toEqual([expect.objectContaining({ executorId: 'executor-2', ok: true })]);
  // The agents really waited at the gate: every hold ran in the sandbox and ended well.
  const holds = steps.filter((e) => e.kind === 'tool' && e.tool === 'exec');
  expect(holds.length).toBeGreaterThan(0);
  expect(holds.filter((e) => !e.ok).map((e) => e.summary)).toEqual([]);
});
