/**
 * Fault: the private nats-server is SIGKILLed in the middle of a burst of submissions, more
 * submissions are made while it is down, and it is started again on the same port and store.
 * The client retries its unknown submissions once with the same idempotency key. Every accepted
 * task ends once, each subtask commits once, no submission makes two tasks.
 */
import { startFaultCluster, type FaultCluster } from './fault-cluster.js';
import { isClean } from './jepsen-table.js';
import { Workload, report, writeFaultScript } from './workload.js';

jest.setTimeout(420_000);

const SCENARIO = 'nats-restart';
let fc: FaultCluster;
let workload: Workload;

beforeAll(async () => {
  fc = await startFaultCluster({ scenario: SCENARIO, scriptPath: writeFaultScript() });
  workload = new Workload(fc, SCENARIO, 10_000);
});

afterAll(async () => {
  await fc?.stop();
  workload?.cleanup();
});

it('loses and repeats nothing when NATS is killed and restarted during a burst of submissions', async () => {
  const before = await Promise.all([workload.submit(), workload.submit()]);
  expect(before.map((op) => op.outcome)).toEqual(['ok', 'ok']);
  await fc.nats.kill();
  const during = await Promise.all([workload.submit(), workload.submit()]);
  await fc.nats.start();
  const after = [await workload.submit()];
  await workload.retryUnknown();

  await workload.settle();
  const records = await workload.observe(fc.bus);
  const row = report(SCENARIO, records, [`logs: ${fc.logDir}`, 
    `while NATS was down: ${during.map((op) => `${op.outcome}${op.detail !== undefined ? ` (${op.detail.slice(0, 80)})` : ''}`).join('; ')}`,
    `after the restart: ${after.map((op) => op.outcome).join(', ')}`,
  ]);

  expect(row.problems).toEqual([]);
  expect(isClean(row)).toBe(true);
  expect(row.ok).toBeGreaterThanOrEqual(3);
});
