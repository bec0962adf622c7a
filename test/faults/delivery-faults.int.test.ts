/**
 * Faults of delivery: a second copy of a subtask's work item is put on the work stream while the
 * first is being worked on (and another after its task ended), and a poison message (not work
 * at all, signed as the services sign, and raw bytes from no producer of ours) is published onto
 * the work subject. The duplicates have no second effect; each poison lands in the dead-letter
 * stream with a reason and hurts no task.
 */
import { DeadLetterHeaders, Streams, SubtaskWorkSchema, Subjects, WorkStepEventSchema, type SubtaskWork, type WorkStepEvent } from '@maestro/contracts';
import { Gate, startFaultCluster, type FaultCluster } from './fault-cluster.js';
import { isClean } from './jepsen-table.js';
import { waitUntil } from './private-servers.js';
import { Workload, readStream, report, writeFaultScript } from './workload.js';

jest.setTimeout(420_000);

const SCENARIO = 'delivery-faults';
/** A signed message on the work subject that is no work item. */
const POISON = { poison: 'not a work item' };
/** Bytes on the work subject from no producer of ours: not even JSON, and unsigned. */
const GARBAGE = '{"this is": "not json';
const gate = new Gate();
let fc: FaultCluster;
let workload: Workload;

beforeAll(async () => {
  fc = await startFaultCluster({ scenario: SCENARIO, scriptPath: writeFaultScript({ gateFile: gate.file }), executors: 2, executorConcurrency: 2 });
  workload = new Workload(fc, SCENARIO);
});

afterAll(async () => {
  await fc?.stop();
  workload?.cleanup();
  gate.remove();
});

/** Messages still on the work stream (consumed ones are gone: it is a work queue). */
async function workQueued(): Promise<number> {
  const info = await fc.bus.jsm.streams.info(fc.bus.namespace.stream(Streams.work.name));
  return info.state.messages;
}

it('gives a duplicated work item no second effect and dead-letters a poison message with its reason', async () => {
  const works: SubtaskWork[] = [];
  const steps: WorkStepEvent[] = [];
  const subs = [
    // A live look at the work items as they are published (JetStream keeps them to itself once consumed).
    fc.bus.subscribe(Subjects.subtaskWork, SubtaskWorkSchema, (w) => works.push(w)),
    fc.bus.subscribe(Subjects.workStep, WorkStepEventSchema, (e) => steps.push(e)),
  ];
  for (let i = 0; i < 2; i++) await workload.submit();
  expect(workload.ops.map((op) => op.outcome)).toEqual(['ok', 'ok']);
  await waitUntil('a subtask in the middle of its work', () => steps.some((e) => e.kind === 'tool' && e.tool === 'fs.write'));
  const victim = steps.find((e) => e.kind === 'tool' && e.tool === 'fs.write')!;
  const work = works.find((w) => w.taskId === victim.taskId && w.subtaskId === victim.subtaskId);
  expect(work).toBeDefined();

  // A duplicate delivery: the same work item again under another message id, so the stream keeps it.
  await fc.bus.publish(Subjects.subtaskWork, work, { msgId: `${work!.workId}-duplicate-1` });
  // Poison: a (signed) message that is no work item, and raw bytes that are not even JSON.
  await fc.bus.publish(Subjects.subtaskWork, POISON);
  await fc.bus.js.publish(fc.bus.namespace.subject(Subjects.subtaskWork), new TextEncoder().encode(GARBAGE));
  gate.open();

  await workload.settle();
  // Once more after the task ended, and wait until the executors took it off the queue.
  await fc.bus.publish(Subjects.subtaskWork, work, { msgId: `${work!.workId}-duplicate-2` });
  await waitUntil('the work queue to drain', async () => (await workQueued()) === 0);
  await new Promise((r) => setTimeout(r, 2_000));

  const records = await workload.observe(fc.bus);
  subs.forEach((s) => s.unsubscribe());
  const dead = await readStream(fc.bus, Streams.deadLetter.name, Subjects.deadLetter(Subjects.subtaskWork));
  const text = (m: { data: Uint8Array }): string => new TextDecoder().decode(m.data);
  const poison = dead.filter((m) => text(m).includes(POISON.poison));
  const garbage = dead.filter((m) => text(m) === GARBAGE);
  const row = report(SCENARIO, records, [`logs: ${fc.logDir}`, 
    `duplicated work item ${work!.workId} (during its work and after its task ended)`,
    `dead letters: ${dead.map((m) => (m.headers.get(DeadLetterHeaders.reason) ?? '(no reason)').slice(0, 120)).join(' | ')}`,
  ]);

  expect(row.problems).toEqual([]);
  expect(isClean(row)).toBe(true);
  expect(row.terminal.done).toBe(2);
  expect(poison).toHaveLength(1);
  expect(poison[0]!.headers.get(DeadLetterHeaders.reason)).toMatch(/malformed/);
  expect(garbage).toHaveLength(1);
  expect(garbage[0]!.headers.get(DeadLetterHeaders.reason)).toMatch(/\S/);
  // The duplicates were no poison: they are not in the dead-letter stream.
  expect(dead).toHaveLength(2);
});
