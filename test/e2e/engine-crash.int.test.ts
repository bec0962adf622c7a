/**
 * Durability of runs: the workflow-engine process is killed with SIGKILL in the middle of a
 * coding run; after a restart the run finishes, and its history holds each transition
 * exactly once.
 */
import { join } from 'node:path';
import { RunEventSchema, Subjects } from '@maestro/contracts';
import { getJson, postJson, repoRoot, startE2eCluster, waitForTaskEnd, type E2eCluster } from './harness.js';

jest.setTimeout(180_000);

let e2e: E2eCluster;

beforeAll(async () => {
  e2e = await startE2eCluster({ scriptPath: join(repoRoot, 'examples/scripts/demo-script.json'), executors: 1 });
});

afterAll(async () => {
  await e2e?.stop();
});

it('finishes a run after the engine is SIGKILLed mid-run, with every transition recorded once', async () => {
  const seen: string[] = [];
  let resolvePlan!: () => void;
  const planEntered = new Promise<void>((r) => (resolvePlan = r));
  const sub = e2e.bus.subscribe(Subjects.runTransitioned, RunEventSchema, (event) => {
    seen.push(event.state);
    if (event.state === 'plan') resolvePlan();
  });

  const task = await postJson(`${e2e.gateway}/v1/tasks`, {
    goal: 'Add subtraction and multiplication helpers to the calculator, with tests.',
    repoPath: e2e.repo,
  });
  await planEntered;

  const engine = e2e.cluster.running.find((p) => p.name === 'workflow-engine')!;
  engine.kill('SIGKILL');
  expect((await engine.exited).signal).toBe('SIGKILL');
  await e2e.cluster.start('workflow-engine');

  const finished = await waitForTaskEnd(e2e.gateway, String(task['id']));
  sub.unsubscribe();
  expect(finished['status']).toBe('succeeded');

  const run = await getJson(`${e2e.gateway}/v1/runs/${String(task['runId'])}`);
  expect(run['status']).toBe('done');
  const history = run['history'] as Array<{ seq: number; fromState: string; toState: string }>;
  const seqs = history.map((h) => h.seq);
  expect(new Set(seqs).size).toBe(seqs.length);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  const moves = history.filter((h) => h.fromState !== h.toState).map((h) => `${h.fromState}→${h.toState}`);
  expect(moves).toEqual(['intake→preflight', 'preflight→plan', 'plan→code', 'code→review', 'review→done']);
});
