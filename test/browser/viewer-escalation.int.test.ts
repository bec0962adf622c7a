/**
 * The run page of a task that escalated, in a real browser (Debian's Chromium, headless, driven
 * by playwright-core) against the whole cluster as processes with scripted models: the escalation
 * demo (`examples/scripts/escalation-script.json`), where the agent's divide() stays red until it
 * is stuck, the executor escalates with its failure packet, and Orion's hint fixes it. Before the
 * task, a project preference is stored through the gateway's memory API, so the subtask's agent
 * recalls it and its recall step lists it.
 *
 * Once the task succeeded, the run page shows what a person looks for there: the escalation with
 * its failure kind, its failure packet (failing test output, diff, changed files, the agent's
 * account) and Orion's decision with its reason and hint; the usage per phase and per model, as
 * the router's ledger has it; a model step's tokens in / cached / out; and the recall step with
 * the stored preference. Screenshots go to test/browser/artifacts/ (`escalation-*`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, type Locator, type Page } from 'playwright-core';
import { getJson, postJson, repoRoot, startE2eCluster, waitForTaskEnd, type E2eCluster } from '../e2e/harness.js';
import { browserArtifacts, checkBrowserPrerequisites, launchSignedInViewer } from './browser-harness.js';

jest.setTimeout(300_000);

const artifacts = browserArtifacts;
const workdir = mkdtempSync(join(tmpdir(), 'maestro-browser-escalation-'));
const escalationScript = join(repoRoot, 'examples', 'scripts', 'escalation-script.json');
/** The sample repository's project, as the escalation e2e test names it. */
const PROJECT = 'sample-calculator';
const GOAL = 'Add a divide helper to the calculator, with tests: divide(a, b) returns a / b and throws a RangeError when b is 0.';
/** The preference stored before the task; its words overlap the subtask's, so keyword recall finds it too. */
const PREFERENCE = 'In the calculator, a divide helper refuses a zero divisor with a RangeError; it never returns Infinity.';

/** Usage totals as `GET /v1/tasks/:id` returns them (the fields this test reads). */
interface Totals {
  calls: number;
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  costUsd: number;
  unpricedCalls: number;
  scriptedCalls: number;
}

/** A recorded step as `GET /v1/tasks/:id/steps` lists it (the fields this test reads). */
interface ListedStep {
  subtaskId: string;
  executorId: string;
  step: number;
  kind: string;
  at: string;
  recalled?: Array<{ id: string; kind: string; content: string }>;
  modelCall?: { provider: string; scripted: boolean; inputTokens: number; cachedInputTokens: number; outputTokens: number } | null;
}

let e2e: E2eCluster;
let context: BrowserContext;
let memoryId = '';
let taskId = '';
let runId = '';
/** The task as `GET /v1/tasks/:id` returned it once it succeeded. */
let finished: Record<string, unknown> = {};

/**
 * A token count as the viewer writes it (`950`, `12.3k`, `4.56M`) read back as a number; the
 * viewer rounds, so a check against the recorded count allows for that.
 */
function readTokens(text: string | null): number {
  const match = /^(\d+(?:\.\d+)?)([kM]?)$/.exec((text ?? '').trim());
  if (!match) throw new Error(`"${text}" is not a token count as the viewer writes one`);
  const scale = match[2] === 'k' ? 1_000 : match[2] === 'M' ? 1_000_000 : 1;
  return Number(match[1]) * scale;
}

/** Expects the viewer's text for a token count to be `recorded`, within the viewer's rounding (three significant digits). */
async function expectTokens(cell: Locator, recorded: number): Promise<void> {
  const shown = readTokens(await cell.textContent());
  expect(Math.abs(shown - recorded)).toBeLessThanOrEqual(Math.max(0.5, recorded * 0.005));
}

/** Unfolds a long text (CollapsibleText) as a person clicking "show all" does, and returns it whole. */
async function unfoldedText(collapsible: Locator): Promise<string> {
  if ((await collapsible.getAttribute('data-collapsed')) === 'true') {
    await collapsible.locator('button', { hasText: 'show all' }).click();
    await collapsible.locator('button', { hasText: 'show less' }).waitFor();
  }
  return (await collapsible.locator('pre').textContent()) ?? '';
}

/** Waits until Orion has stored the reflex it learns from the task's fixed escalation. */
async function waitForReflex(timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { memories } = (await getJson(`${e2e.gateway}/v1/memories?project=${PROJECT}&kind=reflex`)) as { memories?: unknown[] };
    if ((memories ?? []).length > 0) return;
    if (Date.now() > deadline) throw new Error(`no reflex learned for project ${PROJECT} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Opens the run page, signed in, once the run's task (escalations, usage) has loaded. */
async function openRunPage(): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${e2e.gateway}/runs/${runId}`);
  await page.locator('[data-testid="run-status"][data-status="done"]').waitFor();
  await page.locator('[data-testid="escalation-row"]').first().waitFor();
  await page.locator('[data-testid="usage-total"]').waitFor();
  return page;
}

beforeAll(async () => {
  checkBrowserPrerequisites();
  e2e = await startE2eCluster({ scriptPath: escalationScript, executors: 1 });
  context = await launchSignedInViewer(join(workdir, 'chromium-profile'), e2e.apiKey);
});

afterAll(async () => {
  await context?.close();
  await e2e?.stop();
  rmSync(workdir, { recursive: true, force: true });
});

it('stores a project preference, then the task escalates once, is decided with a hint and succeeds', async () => {
  const memory = await postJson(`${e2e.gateway}/v1/memories`, { project: PROJECT, kind: 'preference', content: PREFERENCE });
  memoryId = String(memory['id']);
  expect(memory).toMatchObject({ project: PROJECT, kind: 'preference', content: PREFERENCE, status: 'active' });

  const submitted = await postJson(`${e2e.gateway}/v1/tasks`, { goal: GOAL, repoPath: e2e.repo, project: PROJECT });
  taskId = String(submitted['id']);
  await waitForTaskEnd(e2e.gateway, taskId, 180_000);
  // Orion learns a reflex from the fixed escalation in the background, asking the strategic
  // model (`reflect`) first: once the reflex is stored, the task makes no more model calls.
  await waitForReflex();
  // The task's usage as the page reads it, now that every call is in the router's ledger.
  finished = await getJson(`${e2e.gateway}/v1/tasks/${taskId}`);
  expect(finished['status']).toBe('succeeded');
  expect(finished['escalations']).toEqual([expect.objectContaining({ subtaskId: 's1', attempt: 1, reason: 'tests_failed', decision: 'hint' })]);
  runId = String(finished['runId']);
  expect(runId).not.toBe('');
});

it('shows the escalation: its failure, the failure packet, and the decision with its reason and hint', async () => {
  expect(runId).not.toBe('');
  const page = await openRunPage();
  const rows = page.locator('[data-testid="escalation-row"]');
  await expect(rows.count()).resolves.toBe(1);
  const row = rows.first();
  await row.scrollIntoViewIfNeeded();
  await expect(row.locator('[data-testid="escalation-subtask"]').textContent()).resolves.toBe('s1');
  await expect(row.locator('[data-testid="escalation-attempt"]').textContent()).resolves.toBe('1');
  // The failure kind comes first in its cell, before the packet.
  expect((await row.locator('[data-testid="escalation-failure"]').textContent())?.trim()).toMatch(/^tests_failed/);

  // The packet the executor handed Orion: the red test, the diff of divide() without the zero
  // check, the file it changed and the agent insisting it was right.
  const packet = row.locator('[data-testid="escalation-packet"]');
  expect(await unfoldedText(packet.locator('[data-testid="packet-failing-output"]'))).toContain('divide refuses to divide by zero');
  const diff = await unfoldedText(packet.locator('[data-testid="packet-diff"]'));
  expect(diff).toContain('src/divide.js');
  expect(diff).toContain('+  return a / b;');
  expect(diff).not.toContain('throw new RangeError');
  await expect(packet.locator('[data-testid="packet-files-changed"]').textContent()).resolves.toContain('src/divide.js');
  expect(await unfoldedText(packet.locator('[data-testid="packet-account"]'))).toContain('the zero test must be wrong');
  const whole = JSON.parse(await unfoldedText(packet.locator('[data-testid="packet-json"]'))) as Record<string, unknown>;
  expect(whole).toMatchObject({ reason: 'tests_failed', subtask: expect.objectContaining({ title: 'Create src/divide.js' }) });

  // Orion's strategic decision: a hint, its reason, and the hint itself.
  await expect(row.locator('[data-testid="escalation-decision"]').textContent()).resolves.toBe('hint');
  const reason = await row.locator('[data-testid="escalation-decision-reason"]').textContent();
  expect(reason).toContain('divide(1, 0) returns Infinity instead of throwing');
  expect(reason).toContain("hint: Keep test/divide.test.js as it is. In src/divide.js, throw a RangeError before dividing when b is 0");
  await page.screenshot({ path: join(artifacts, 'escalation-run-page.png'), fullPage: true });
  await page.close();
});

it('shows the usage per phase and per model as the router recorded it, each model marked scripted', async () => {
  expect(runId).not.toBe('');
  const usage = finished['usage'] as { total: Totals; byPhase: Array<{ phase: string } & Totals>; byModel: Array<{ model: string } & Totals> };
  const page = await openRunPage();
  const panel = page.locator('[data-testid="usage-totals"]');
  await panel.scrollIntoViewIfNeeded();
  await expect(panel.locator('thead th').allTextContents()).resolves.toEqual(['', 'Calls', 'In', 'Cached', 'Out', 'Cost']);

  // Every phase the task used a model in, the escalation's strategic call among them (and
  // `reflect`, the reflex learned afterwards).
  const phases = await panel.locator('[data-testid="usage-phase"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-phase')));
  expect(phases).toEqual(usage.byPhase.map((p) => p.phase));
  expect(phases).toEqual(expect.arrayContaining(['plan', 'code', 'escalate', 'review']));
  const models = await panel.locator('[data-testid="usage-model"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-model')));
  expect(models).toEqual(usage.byModel.map((m) => m.model));
  expect(models.length).toBeGreaterThan(0);

  const expectRow = async (row: Locator, label: string, totals: Totals): Promise<void> => {
    await expect(row.locator('th').textContent()).resolves.toBe(label);
    const cells = row.locator('td');
    await expect(cells.nth(0).textContent()).resolves.toBe(String(totals.calls));
    await expectTokens(cells.nth(1), totals.inputTokens);
    await expectTokens(cells.nth(2), totals.cachedInputTokens);
    await expectTokens(cells.nth(3), totals.outputTokens);
    // Scripted replies cost nothing: the replayed script was never a model's paid answer.
    expect(totals.costUsd).toBe(0);
    await expect(cells.nth(4).textContent()).resolves.toBe(totals.unpricedCalls > 0 ? '$0 + unpriced' : '$0');
  };
  await expectRow(panel.locator('[data-testid="usage-total"]'), 'total', usage.total);
  for (const phase of ['plan', 'code', 'escalate', 'review']) expect(usage.byPhase.find((p) => p.phase === phase)?.inputTokens).toBeGreaterThan(0);
  for (const p of usage.byPhase) {
    expect(p.calls).toBeGreaterThan(0);
    await expectRow(panel.locator(`[data-testid="usage-phase"][data-phase="${p.phase}"]`), `phase ${p.phase}`, p);
  }
  for (const m of usage.byModel) {
    // Every call of this task was a scripted reply; the totals mark that by the model's name
    // alone (they show no count of scripted calls).
    expect(m.scriptedCalls).toBe(m.calls);
    expect(m.model).toBe('scripted');
    await expectRow(panel.locator(`[data-testid="usage-model"][data-model="${m.model}"]`), `model ${m.model}`, m);
  }
  await page.screenshot({ path: join(artifacts, 'escalation-usage.png'), fullPage: true });
  await page.close();
});

it('opens a model step of the escalated subtask: scripted, with its tokens in, cached and out', async () => {
  expect(runId).not.toBe('');
  const page = await openRunPage();
  await page.locator('[data-testid="step-subtask-filter"]').selectOption('s1');
  await page.locator('[data-testid="step-kind-filter"]').selectOption('model');
  const modelRow = page.locator('[data-testid="step-row"][data-kind="model"][data-has-usage="true"]').first();
  await modelRow.waitFor();
  const key = String(await modelRow.getAttribute('data-step-key'));
  await modelRow.click();
  const detail = page.locator(`[data-testid="step-detail"][data-step-key="${key}"]`);
  await detail.waitFor();
  expect(page.url()).toBe(`${e2e.gateway}/runs/${runId}/steps/${encodeURIComponent(key)}`);

  // The recorded step behind the row: its key is subtask~executor~number~time (ms).
  const [subtaskId, executorId, number, atMs] = key.split('~');
  const { steps } = (await getJson(`${e2e.gateway}/v1/tasks/${taskId}/steps?subtaskId=s1&limit=1000`)) as { steps: ListedStep[] };
  const recorded = steps.find((s) => s.subtaskId === subtaskId && s.executorId === executorId && String(s.step) === number && String(Date.parse(s.at)) === atMs);
  const call = recorded?.modelCall;
  if (!call) throw new Error(`step ${key} is not among the recorded steps of s1, or has no model call`);
  expect(call.scripted).toBe(true);

  await expect(detail.locator('[data-testid="step-provider"]').textContent()).resolves.toBe('scripted');
  await expectTokens(detail.locator('[data-testid="step-tokens-in"]'), call.inputTokens);
  expect(call.inputTokens).toBeGreaterThan(0);
  // The scripted provider reports no cached tokens: the page says 0, not "—".
  await expectTokens(detail.locator('[data-testid="step-tokens-cached"]'), call.cachedInputTokens);
  await expectTokens(detail.locator('[data-testid="step-tokens-out"]'), call.outputTokens);
  expect(call.outputTokens).toBeGreaterThan(0);
  await expect(detail.locator('[data-testid="step-cost"]').textContent()).resolves.toMatch(/^\$\d/);
  await page.screenshot({ path: join(artifacts, 'escalation-model-step.png'), fullPage: true });
  await page.close();
});

it("opens the subtask's recall step: it lists the stored preference", async () => {
  expect(memoryId).not.toBe('');
  const { steps } = (await getJson(`${e2e.gateway}/v1/tasks/${taskId}/steps?subtaskId=s1&limit=1000`)) as { steps: ListedStep[] };
  // Both attempts of s1 recalled before their agent started; the first one is opened.
  const recalls = steps.filter((s) => s.kind === 'recall');
  expect(recalls.length).toBeGreaterThan(0);
  expect(recalls[0]?.recalled).toEqual(expect.arrayContaining([expect.objectContaining({ id: memoryId, kind: 'preference', content: PREFERENCE })]));

  const page = await openRunPage();
  await page.locator('[data-testid="step-subtask-filter"]').selectOption('s1');
  await page.locator('[data-testid="step-kind-filter"]').selectOption('recall');
  const recallRow = page.locator('[data-testid="step-row"][data-kind="recall"]').first();
  await recallRow.waitFor();
  const key = String(await recallRow.getAttribute('data-step-key'));
  expect(key.split('~').slice(0, 3)).toEqual([recalls[0]?.subtaskId, recalls[0]?.executorId, String(recalls[0]?.step)]);
  await recallRow.click();
  const detail = page.locator(`[data-testid="step-detail"][data-step-key="${key}"]`);
  await detail.waitFor();
  const recalled = detail.locator('[data-testid="step-recalled"]');
  await expect(recalled.locator('h2').textContent()).resolves.toBe(`Recalled memories (${recalls[0]?.recalled?.length ?? 0})`);
  const memory = recalled.locator('[data-testid="recalled-memory"]', { hasText: PREFERENCE });
  await expect(memory.count()).resolves.toBe(1);
  await expect(memory.locator('[data-testid="recalled-kind"]').textContent()).resolves.toBe('preference');
  await expect(memory.locator('pre').textContent()).resolves.toBe(PREFERENCE);
  await expect(memory.textContent()).resolves.toMatch(/score \d\.\d{3}/);
  await page.screenshot({ path: join(artifacts, 'escalation-recall-step.png'), fullPage: true });
  await page.close();
});
