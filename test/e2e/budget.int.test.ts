/**
 * Task budgets across the whole cluster (services as processes, the demo script): a task whose
 * token budget runs out while its agents work stops with BUDGET_EXHAUSTED, and its usage
 * totals — served with the task — account every call that was made, no more than one call per
 * agent past the limit.
 */
import { join } from 'node:path';
import { postJson, repoRoot, startE2eCluster, waitForTaskEnd, type E2eCluster } from './harness.js';

jest.setTimeout(240_000);

const BUDGET_TOKENS = 4_000;

let e2e: E2eCluster;

beforeAll(async () => {
  e2e = await startE2eCluster({ scriptPath: join(repoRoot, 'examples', 'scripts', 'demo-script.json'), executors: 2 });
});

afterAll(async () => {
  await e2e?.stop();
});

interface Totals {
  calls: number;
  inputTokens: number;
  outputTokens: number;
}

it('stops a task over its token budget with BUDGET_EXHAUSTED and the totals', async () => {
  const goal = 'Add subtraction and multiplication helpers to the calculator, with tests.';
  const submitted = await postJson(`${e2e.gateway}/v1/tasks`, { goal, repoPath: e2e.repo, project: 'sample-calculator', budget: { tokens: BUDGET_TOKENS } });
  expect(submitted['budget']).toEqual({ usd: 10, tokens: BUDGET_TOKENS });
  const done = await waitForTaskEnd(e2e.gateway, String(submitted['id']), 180_000);

  expect(done['status']).toBe('failed');
  expect(String(done['failureReason'])).toContain('BUDGET_EXHAUSTED');
  expect(String(done['failureReason'])).toMatch(new RegExp(`\\d+ of ${BUDGET_TOKENS} tokens`));

  const usage = done['usage'] as { total: Totals; byPhase: Array<Totals & { phase: string }>; byModel: Array<Totals & { model: string }> };
  const spent = usage.total.inputTokens + usage.total.outputTokens;
  expect(spent).toBeGreaterThanOrEqual(BUDGET_TOKENS);
  // The totals add up by phase and by model, and the plan and coding calls are both in them.
  const sum = (rows: Totals[]) => rows.reduce((n, r) => n + r.inputTokens + r.outputTokens, 0);
  expect(sum(usage.byPhase)).toBe(spent);
  expect(sum(usage.byModel)).toBe(spent);
  expect(usage.byPhase.map((p) => p.phase)).toEqual(expect.arrayContaining(['plan', 'code']));
  // Two agents each check before their call: together they overspend by at most one call each,
  // and no call of this script is anywhere near 4000 tokens.
  expect(spent).toBeLessThan(BUDGET_TOKENS + 2 * 4_000);
});
