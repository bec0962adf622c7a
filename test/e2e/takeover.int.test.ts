/**
 * Orion's take-over, the whole cluster as processes with scripted models
 * (`examples/scripts/takeover-script.json`): the agent's divide() stays red until it is stuck,
 * the executor escalates, the strategic model decides `takeover`, and the subtask's next attempt
 * is worked by the strategic model (dispatched with role strategic, forwarded by the executor,
 * served by the router's strategic tier), which fixes and commits it.
 *
 * Both tiers replay the same script, which matches on intent and text, never on role; they are
 * told apart by the model name each tier's spec gives the scripted provider, which every model
 * step records.
 */
import { join } from 'node:path';
import { EscalationDecidedEventSchema, Subjects, type EscalationDecidedEvent } from '@maestro/contracts';
import { getJson, postJson, repoRoot, startE2eCluster, waitForTaskEnd, type E2eCluster } from './harness.js';
import { expectFixOnTaskBranch } from './task-branch-checks.js';

jest.setTimeout(240_000);

/** The two tiers: one scripted provider, named apart by their specs. */
const STRATEGIC_MODEL = 'strategic-brain';
const TACTICAL_MODEL = 'tactical-coder';

describe('a subtask Orion takes over', () => {
  let e2e: E2eCluster;

  beforeAll(async () => {
    e2e = await startE2eCluster({
      scriptPath: join(repoRoot, 'examples', 'scripts', 'takeover-script.json'),
      executors: 1,
      env: { MAESTRO_STRATEGIC_MODEL: `scripted:${STRATEGIC_MODEL}`, MAESTRO_TACTICAL_MODEL: `scripted:${TACTICAL_MODEL}` },
    });
  });

  afterAll(async () => {
    await e2e?.stop();
  });

  it('runs again on the strategic model, which fixes and commits it, and the task succeeds listing the take-over', async () => {
    const decided: EscalationDecidedEvent[] = [];
    const sub = e2e.bus.subscribe(Subjects.escalationDecided, EscalationDecidedEventSchema, (event) => decided.push(event));
    const goal = 'Add a divide helper to the calculator, with tests: divide(a, b) returns a / b and throws a RangeError when b is 0.';
    const task = await postJson(`${e2e.gateway}/v1/tasks`, { goal, repoPath: e2e.repo, project: 'sample-calculator' });
    const taskId = String(task['id']);
    const done = await waitForTaskEnd(e2e.gateway, taskId, 180_000);
    await new Promise((r) => setTimeout(r, 500));
    sub.unsubscribe();

    expect(done['status']).toBe('succeeded');
    expect(done['escalations']).toEqual([
      expect.objectContaining({ subtaskId: 's1', attempt: 1, reason: 'tests_failed', decision: 'takeover' }),
    ]);
    expect(decided.map((e) => [e.subtaskId, e.attempt, e.decision])).toEqual([['s1', 1, 'takeover']]);

    // Who served each of the subtask's model steps: the tactical model on the attempt that
    // escalated, the strategic model on every turn of the attempt it took over.
    const steps = (await getJson(`${e2e.gateway}/v1/tasks/${taskId}/steps`))['steps'] as Array<Record<string, unknown>>;
    const modelsOf = (attempt: number): unknown[] =>
      steps
        .filter((s) => s['kind'] === 'model' && s['subtaskId'] === 's1' && s['attempt'] === attempt)
        .map((s) => (s['modelCall'] as Record<string, unknown> | null)?.['model']);
    const escalated = modelsOf(1);
    expect(escalated.length).toBeGreaterThan(0);
    expect(new Set(escalated)).toEqual(new Set([TACTICAL_MODEL]));
    // Write, run the tests, commit, done: the four turns of the take-over rule.
    expect(modelsOf(2)).toEqual([STRATEGIC_MODEL, STRATEGIC_MODEL, STRATEGIC_MODEL, STRATEGIC_MODEL]);
    expect(steps.filter((s) => s['kind'] === 'escalation' || s['kind'] === 'decision').map((s) => [s['kind'], s['attempt']])).toEqual([
      ['escalation', 1],
      ['decision', 1],
    ]);

    // The router's ledger, as the task's usage shows it, knows both tiers' specs.
    const usage = done['usage'] as { byModel: Array<Record<string, unknown>> } | null;
    expect(usage?.byModel.map((m) => m['model'])).toEqual([`scripted:${STRATEGIC_MODEL}`, `scripted:${TACTICAL_MODEL}`]);

    // The strategic model's fix is committed on the task's branch; the user's branch is untouched.
    expectFixOnTaskBranch(e2e, taskId, { file: 'src/divide.js', contains: 'RangeError', subjects: 'Add divide() with tests' });
  });
});
