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

jest.setTimeout(420_000);

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

/** The leases the lock-manager holds now (the gateway's `GET /v1/locks`, as the operator). */
async function heldLeases(): Promise<{ leaseId: string; owner: string; concerns: string[] }[]> {
  const res = await fetch(`${fc.gateway}/v1/locks`, { headers: fc.headers, signal: AbortSignal.timeout(10_000) });
  if (!res.ok) return [];
  return ((await res.json()) as { leases: { leaseId: string; owner: string; concerns: string[] }[] }).leases;
}

/** The executors' and the lock-manager's lines about leases: what to read when no refusal came. */
function leaseDiagnostics(): string {
  const lines = ['executor-1', 'executor-2', 'lock-manager']
    .flatMap((label) => fc.log(label).split('\n').map((line) => `${label}: ${line}`))
    .filter((line) => /lease|redis|Redis|LOCK_|FENCED/.test(line));
  return lines.slice(-40).join('\n');
}

it('refuses the stale lease holders after Redis lost its leases, and does every subtask once', async () => {
  const steps: WorkStepEvent[] = [];
  const sub = fc.bus.subscribe(Subjects.workStep, WorkStepEventSchema, (e) => steps.push(e));
  for (let i = 0; i < 2; i++) await workload.submit();
  expect(workload.ops.map((op) => op.outcome)).toEqual(['ok', 'ok']);
  await waitUntil('subtasks in the middle of their work', () => steps.filter((e) => e.kind === 'tool' && e.tool === 'fs.write').length >= 2);
  // The leases that Redis is about to lose: agents waiting at the gate hold (and keep extending)
  // their work lease and the lease on the file they wrote. Read just before the restart, so a
  // holder that lost its lease earlier for another reason (a stalled executor) is not counted.
  let before: Awaited<ReturnType<typeof heldLeases>> = [];
  await waitUntil('leases held by agents at the gate', async () => {
    before = (await heldLeases()).filter((lease) => lease.owner.startsWith('executor:'));
    return before.length >= 2;
  });
  const refusedBefore = refusals().length;

  await fc.redis.restart();
  // The holders' next extension (every third of the lease's TTL) finds their lease gone.
  const staleIds = new Set(before.map((lease) => lease.leaseId));
  const staleRefusals = (): string[] => refusals().slice(refusedBefore).filter((line) => [...staleIds].some((id) => line.includes(id)));
  try {
    await waitUntil('a lease held before the restart refused after it', () => staleRefusals().length > 0);
  } catch (err) {
    throw new Error(`${(err as Error).message}\nleases before the restart: ${JSON.stringify(before)}\nleases now: ${JSON.stringify(await heldLeases())}\n${leaseDiagnostics()}`);
  }
  gate.open();

  await workload.settle();
  const records = await workload.observe(fc.bus);
  sub.unsubscribe();
  const seen = staleRefusals();
  const row = report(SCENARIO, records, [
    `logs: ${fc.logDir}`,
    `leases held when Redis restarted: ${before.length}; refusals of their holders after the restart: ${seen.length}`,
    ...seen.slice(0, 3).map(describeRefusal),
  ]);

  expect(row.problems).toEqual([]);
  expect(isClean(row)).toBe(true);
  expect(row.terminal.done).toBe(2);
});
