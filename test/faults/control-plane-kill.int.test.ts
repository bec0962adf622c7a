/**
 * Fault: the control plane dies while tasks run. The orchestrator is SIGKILLed (a submission is
 * tried while it is down) and started again; then the workflow-engine is SIGKILLed (a submission
 * is tried while it is down) and started again. Meanwhile subtasks wait at the gate. The client
 * retries its unknown submissions once with the same idempotency key. Every accepted task ends
 * once, each subtask commits once, no submission makes two tasks.
 */
import { Subjects, WorkStepEventSchema, type WorkStepEvent } from '@maestro/contracts';
import { Gate, startFaultCluster, type FaultCluster } from './fault-cluster.js';
import { isClean } from './jepsen-table.js';
import { waitUntil } from './private-servers.js';
import { Workload, report, writeFaultScript } from './workload.js';

jest.setTimeout(420_000);

const SCENARIO = 'control-plane-kill';
const gate = new Gate();
let fc: FaultCluster;
let workload: Workload;

beforeAll(async () => {
  fc = await startFaultCluster({ scenario: SCENARIO, scriptPath: writeFaultScript({ gateFile: gate.file }), executors: 1, executorConcurrency: 4 });
  workload = new Workload(fc, SCENARIO, 10_000);
});

afterAll(async () => {
  await fc?.stop();
  workload?.cleanup();
  gate.remove();
});

it('loses and repeats nothing when the orchestrator and then the workflow-engine are SIGKILLed', async () => {
  const steps: WorkStepEvent[] = [];
  const sub = fc.bus.subscribe(Subjects.workStep, WorkStepEventSchema, (e) => steps.push(e));
  const first = [await workload.submit(), await workload.submit()];
  expect(first.map((op) => op.outcome)).toEqual(['ok', 'ok']);
  await waitUntil('a subtask in the middle of its work', () => steps.some((e) => e.kind === 'tool' && e.tool === 'fs.write'));

  await fc.kill('orchestrator');
  const duringOrchestrator = await workload.submit();
  await fc.restart('orchestrator');

  await fc.kill('workflow-engine');
  const duringEngine = await workload.submit();
  await fc.restart('workflow-engine');

  await workload.submit();
  gate.open();
  await workload.retryUnknown();
  await workload.settle();
  const records = await workload.observe(fc.bus);
  sub.unsubscribe();
  const row = report(SCENARIO, records, [`logs: ${fc.logDir}`, 
    `submitted while the orchestrator was down: ${duringOrchestrator.outcome} (${duringOrchestrator.detail ?? 'accepted'})`,
    `submitted while the workflow-engine was down: ${duringEngine.outcome} (${duringEngine.detail ?? 'accepted'})`,
  ]);

  expect(row.problems).toEqual([]);
  expect(isClean(row)).toBe(true);
  // Every task that exists ended done: the kills cost no work.
  expect(records.flatMap((r) => r.tasks).every((t) => t.status === 'succeeded')).toBe(true);
  expect(row.ok).toBeGreaterThanOrEqual(3);
});
