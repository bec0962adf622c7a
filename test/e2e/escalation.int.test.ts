/**
 * Escalation and re-asking, the whole cluster as processes with scripted models:
 * - the escalation demo (`examples/scripts/escalation-script.json`): the agent's divide() stays
 *   red until it is stuck, the executor escalates, Orion's strategic hint fixes it on the next
 *   attempt, and the task succeeds listing the escalation;
 * - a plan reply that does not parse is asked again, and the task succeeds.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EscalationDecidedEventSchema, EscalationRaisedEventSchema, Subjects, type EscalationDecidedEvent, type EscalationRaisedEvent } from '@maestro/contracts';
import { getJson, postJson, repoRoot, startE2eCluster, waitForTaskEnd, type E2eCluster } from './harness.js';
import { expectFixOnTaskBranch } from './task-branch-checks.js';

jest.setTimeout(240_000);

describe('the escalation demo', () => {
  let e2e: E2eCluster;

  beforeAll(async () => {
    e2e = await startE2eCluster({ scriptPath: join(repoRoot, 'examples', 'scripts', 'escalation-script.json'), executors: 1 });
  });

  afterAll(async () => {
    await e2e?.stop();
  });

  it('escalates the stuck subtask, the hint fixes it, and the task succeeds listing the escalation', async () => {
    const raised: EscalationRaisedEvent[] = [];
    const decided: EscalationDecidedEvent[] = [];
    const subs = [
      e2e.bus.subscribe(Subjects.escalationRaised, EscalationRaisedEventSchema, (event) => raised.push(event)),
      e2e.bus.subscribe(Subjects.escalationDecided, EscalationDecidedEventSchema, (event) => decided.push(event)),
    ];
    const goal = 'Add a divide helper to the calculator, with tests: divide(a, b) returns a / b and throws a RangeError when b is 0.';
    const task = await postJson(`${e2e.gateway}/v1/tasks`, { goal, repoPath: e2e.repo, project: 'sample-calculator' });
    const done = await waitForTaskEnd(e2e.gateway, String(task['id']), 180_000);
    await new Promise((r) => setTimeout(r, 500));
    subs.forEach((s) => s.unsubscribe());

    expect(done['status']).toBe('succeeded');
    expect(done['escalations']).toEqual([
      expect.objectContaining({ subtaskId: 's1', attempt: 1, reason: 'tests_failed', decision: 'hint' }),
    ]);
    expect(raised.map((e) => [e.subtaskId, e.attempt, e.reason])).toEqual([['s1', 1, 'tests_failed']]);
    expect(decided.map((e) => [e.subtaskId, e.decision])).toEqual([['s1', 'hint']]);

    const steps = (await getJson(`${e2e.gateway}/v1/tasks/${String(task['id'])}/steps`))['steps'] as Array<Record<string, unknown>>;
    expect(steps.filter((s) => s['kind'] === 'escalation' || s['kind'] === 'decision').map((s) => [s['kind'], s['attempt']])).toEqual([
      ['escalation', 1],
      ['decision', 1],
    ]);

    // In the run's history too, as notes in `code` between the transitions (the run did not move).
    const run = await getJson(`${e2e.gateway}/v1/runs/${String(done['runId'])}`);
    const history = run['history'] as Array<Record<string, unknown>>;
    const notes = history.filter((t) => t['note'] === true);
    expect(notes.map((t) => [t['eventType'], t['fromState'], t['toState'], (t['event'] as Record<string, unknown>)['subtaskId']])).toEqual([
      ['escalation.raised', 'code', 'code', 's1'],
      ['escalation.decided', 'code', 'code', 's1'],
    ]);
    expect((notes[1]?.['event'] as Record<string, unknown>)['decision']).toBe('hint');
    expect(history.filter((t) => t['note'] !== true).map((t) => t['toState'])).toEqual(['preflight', 'plan', 'code', 'review', 'done']);

    // The commit is on the task's branch (`maestro/<taskId>`); the user's branch is untouched.
    expectFixOnTaskBranch(e2e, String(task['id']), { file: 'src/divide.js', contains: 'RangeError', subjects: 'Add divide() with tests' });
  });
});

describe('a plan reply that does not parse', () => {
  let e2e: E2eCluster;

  beforeAll(async () => {
    const plan = { subtasks: [{ id: 's1', title: 'Create src/double.js', instructions: 'Export double(n).', files: ['src/double.js'] }] };
    const script = {
      description: 'e2e: the first plan reply is prose, the re-asked one is the plan',
      rules: [
        { name: 'plan', when: { intent: 'plan' }, turns: [{ content: 'I will add a double() helper in src/double.js.' }, { content: JSON.stringify(plan) }] },
        {
          name: 'code-double',
          when: { intent: 'code', contains: 'Create src/double.js' },
          turns: [
            { toolCalls: [{ name: 'fs.write', arguments: { path: 'src/double.js', content: 'export function double(n) {\n  return 2 * n;\n}\n' } }] },
            { toolCalls: [{ name: 'git.commit', arguments: { message: 'Add double()', paths: ['src/double.js'] } }] },
            { content: 'Added double().' },
          ],
        },
        { name: 'review', when: { intent: 'review' }, turns: [{ content: JSON.stringify({ approved: true, summary: 'double() added' }) }] },
      ],
    };
    const scriptPath = join(mkdtempSync(join(tmpdir(), 'maestro-e2e-script-')), 'script.json');
    writeFileSync(scriptPath, JSON.stringify(script));
    e2e = await startE2eCluster({ scriptPath, executors: 1 });
  });

  afterAll(async () => {
    await e2e?.stop();
  });

  it('is asked again with the parse error, and the task succeeds', async () => {
    const task = await postJson(`${e2e.gateway}/v1/tasks`, { goal: 'Add a double() helper.', repoPath: e2e.repo });
    const done = await waitForTaskEnd(e2e.gateway, String(task['id']));
    expect(done['status']).toBe('succeeded');
    expect((done['subtasks'] as Array<Record<string, unknown>>).map((s) => s['id'])).toEqual(['s1']);
  });
});
