/**
 * Fault: the private Redis (no persistence: a restart loses every lease) is SIGKILLed and
 * started again while subtasks hold their leases (their agents wait at the gate). The holders'
 * next extension is refused (the lease is gone), so the stale writer stops; the work is
 * redelivered and done once. The refusal must be seen in the executors' logs.
 */
import { Subjects, WorkStepEventSchema, type WorkStepEvent } from '@maestro/contracts';
import { Gate, startFaultCluster, type FaultCluster } from './fault-cluster.js';
import { isClean } from './jepsen-table.js';
import { waitUntil } from './private-servers.js';
import { Workload, report, writeFaultScript } from './workload.js';

jest.setTimeout(240_000);

const SCENARIO = 'redis-restart';
const gate = new Gate();
let fc: FaultCluster;
let workload: Workload;

/** Log lines of the executors where the lock-manager refused a lease they thought they held. */
function refusals(): string[] {
  return ['executor-1', 'executor-2']
    .flatMap((label) => fc.log(label).split('\n'))
    .filter((line) => line.includes('"code":"LOCK_NOT_HELD"') || line.includes('"code":"FENCED"') || line.includes('work lease lost'));
}

/** One refusal log line, shortly: who was refused what. */
function describeRefusal(line: string): string {
  try {
    const entry = JSON.parse(line) as Record<string, unknown>;
    return `${String(entry['executorId'])} ${String(entry['subtaskId'])} ${String(entry['component'])}: ${String(entry['msg'])}${entry['code'] !== undefined ? ` (${String(entry['code'])})` : ''}`;
  } catch {
    return line.slice(0, 200);
  }
}

beforeAll(async () => {
  fc = await startFaultCluster({ scenario: SCENARIO, scriptPath: writeFaultScript({ gateFile: gate.file }) });
  workload = new Workload(fc, SCENARIO);
});

afterAll(async () => {
  await fc?.stop();
  workload?.cleanup();
  gate.remove();
});

it('refuses the stale lease holders after Redis lost its leases, and does every subtask once', async () => {
  const steps: WorkStepEvent[] = [];
  const sub = fc.bus.subscribe(Subjects.workStep, WorkStepEventSchema, (e) => steps.push(e));
  for (let i = 0; i < 2; i++) await workload.submit();
  expect(workload.ops.map((op) => op.outcome)).toEqual(['ok', 'ok']);
  await waitUntil('subtasks in the middle of their work', () => steps.filter((e) => e.kind === 'tool' && e.tool === 'fs.write').length >= 2);
  const refusedBefore = refusals().length;

  await fc.redis.restart();
  // The holders' next extension (every third of the lease's TTL) finds their lease gone.
  await waitUntil('a lease holder refused after the restart', () => refusals().length > refusedBefore);
  gate.open();

  await workload.settle();
  const records = await workload.observe(fc.bus);
  sub.unsubscribe();
  const seen = refusals().slice(refusedBefore);
  const row = report(SCENARIO, records, [`logs: ${fc.logDir}`, `refusals of stale lease holders after the restart: ${seen.length}`, ...seen.slice(0, 3).map(describeRefusal)]);

  expect(row.problems).toEqual([]);
  expect(isClean(row)).toBe(true);
  expect(row.terminal.done).toBe(2);
});
