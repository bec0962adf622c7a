/**
 * The web viewer in a real browser (Debian's Chromium, headless, driven by playwright-core)
 * against the whole cluster as processes with scripted models: a task started through the API
 * is followed live on the runs list and on its run page through every state to done, a step is
 * opened (model, tokens, cost) and reached again by its deep link after the run, where its model,
 * tokens and cost come from the recorded step alone (no live usage event), the subtask's lock holder is
 * shown while it holds the lock, and the error states show for an unknown run and a gateway
 * that is down. The viewer asks for an API key first and refuses a wrong one. Screenshots go to
 * test/browser/artifacts/.
 *
 * The subtask holds its lock deterministically: its scripted agent runs
 * examples/scripts/hold-until-file.mjs, which waits until this test creates a gate file after it
 * saw the lock holder in the viewer.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { postJson, repoRoot, startE2eCluster, writeE2eScript, type E2eCluster } from '../e2e/harness.js';

jest.setTimeout(240_000);

const CHROMIUM = '/usr/bin/chromium';
const artifacts = join(repoRoot, 'test', 'browser', 'artifacts');
const workdir = mkdtempSync(join(tmpdir(), 'maestro-browser-'));
const gateFile = join(workdir, 'release-the-lock');
const holdScript = join(repoRoot, 'examples', 'scripts', 'hold-until-file.mjs');
const goal = 'Add subtract() (browser test)';

/** One subtask; its agent writes, then holds its lock until the gate file exists, then tests and commits. */
function writeScript(): string {
  const plan = {
    subtasks: [{ id: 's1', title: 'Create src/subtract.js', instructions: 'Export subtract(a, b) returning a - b, with a test.', files: ['src/subtract.js', 'test/subtract.test.js'] }],
  };
  return writeE2eScript('browser test: one subtask that holds its lock until the test releases it', [
    { name: 'plan', when: { intent: 'plan' }, turns: [{ content: JSON.stringify(plan) }] },
    {
      name: 'code-subtract',
      when: { intent: 'code', contains: 'Create src/subtract.js' },
      turns: [
        {
          content: "I'll add src/subtract.js and its test.",
          toolCalls: [
            { name: 'fs.write', arguments: { path: 'src/subtract.js', content: 'export function subtract(a, b) {\n  return a - b;\n}\n' } },
            {
              name: 'fs.write',
              arguments: {
                path: 'test/subtract.test.js',
                content: "import { test } from 'node:test';\nimport assert from 'node:assert/strict';\nimport { subtract } from '../src/subtract.js';\n\ntest('subtract', () => assert.equal(subtract(5, 3), 2));\n",
              },
            },
          ],
        },
        { content: 'Waiting for the reviewer to look.', toolCalls: [{ name: 'exec', arguments: { argv: ['node', holdScript, gateFile, '120000'] } }] },
        { toolCalls: [{ name: 'exec', arguments: { argv: ['node', '--test', 'test/subtract.test.js'] } }] },
        { toolCalls: [{ name: 'git.commit', arguments: { message: 'Add subtract() with a test', paths: ['src/subtract.js', 'test/subtract.test.js'] } }] },
        { content: 'Added subtract() with its test; it passes and is committed.' },
      ],
    },
    { name: 'review', when: { intent: 'review' }, turns: [{ content: JSON.stringify({ approved: true, summary: 'subtract() exists with a passing test.' }) }] },
  ]);
}

let e2e: E2eCluster;
let context: BrowserContext;
let taskId = '';
let runId = '';
let listPage: Page;

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

/** Marks the page so a later check can tell it was never reloaded (a reload forgets the mark). */
async function markNoReload(page: Page): Promise<void> {
  await page.evaluate(() => {
    (globalThis as unknown as { maestroNoReload: boolean }).maestroNoReload = true;
  });
}
async function neverReloaded(page: Page): Promise<boolean> {
  return page.evaluate(() => (globalThis as unknown as { maestroNoReload?: boolean }).maestroNoReload === true);
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/ensure-chromium.sh (make test does)`);
  if (!existsSync(join(repoRoot, 'packages', 'web', 'dist', 'index.html'))) throw new Error('the viewer is not built: run make build');
  mkdirSync(artifacts, { recursive: true });
  // The agent's hold script and the gate file live outside its worktree: the sandbox lets its
  // commands read exactly those two directories besides the system's.
  e2e = await startE2eCluster({ scriptPath: writeScript(), executors: 1, env: { MAESTRO_SANDBOX_READ_PATHS: `${join(repoRoot, 'examples', 'scripts')}:${workdir}` } });
  context = await chromium.launchPersistentContext(join(workdir, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 1000 },
  });
});

afterAll(async () => {
  writeFileSync(gateFile, 'released\n');
  await context?.close();
  await e2e?.stop();
  rmSync(workdir, { recursive: true, force: true });
});

it('follows a task live from submission to done: the list, the run page, its lock holder and a step', async () => {
  // The runs list is open before the task exists: the task must appear and change without a reload.
  listPage = await context.newPage();
  await listPage.goto(`${e2e.gateway}/`);
  // Every /v1 route needs a key: the viewer asks for one and shows nothing before.
  await listPage.locator('[data-testid="sign-in"]').waitFor();
  expect(await listPage.locator('[data-testid="task-row"]').count()).toBe(0);
  await listPage.locator('[data-testid="api-key-input"]').fill(`mk_aaaaaaaaaaaa_${'A'.repeat(43)}`);
  await listPage.locator('[data-testid="sign-in-submit"]').click();
  await listPage.locator('[data-testid="sign-in-problem"]').waitFor();
  await shot(listPage, 'sign-in-refused');
  await listPage.locator('[data-testid="api-key-input"]').fill(e2e.apiKey);
  await listPage.locator('[data-testid="sign-in-submit"]').click();
  await listPage.locator('[data-testid="stream-state"][data-state="live"]').waitFor();
  // The key lives in each tab's sessionStorage: the pages this test opens next start signed in.
  // Runs in the page, where `sessionStorage` is the browser's (this file is type-checked without the DOM library).
  await context.addInitScript((key: string) => (globalThis as unknown as { sessionStorage: { setItem(k: string, v: string): void } }).sessionStorage.setItem('maestro.apiKey', key), e2e.apiKey);
  await markNoReload(listPage);

  const task = await postJson(`${e2e.gateway}/v1/tasks`, { goal, repoPath: e2e.repo, project: 'browser', workflow: 'coding' });
  taskId = String(task['id']);
  const row = listPage.locator(`[data-testid="task-row"][data-task-id="${taskId}"]`);
  await row.waitFor();
  expect(await row.textContent()).toContain(goal);
  await row.locator('[data-testid="run-link"]').waitFor();
  runId = String(await row.getAttribute('data-run-id'));
  expect(runId).not.toBe('');

  // The run page, opened while the run works.
  const runPage = await context.newPage();
  await runPage.goto(`${e2e.gateway}/runs/${runId}`);
  await runPage.locator('[data-testid="run-page"]').waitFor();
  await markNoReload(runPage);
  await runPage.locator('[data-testid="workflow-graph"] .vue-flow__node').first().waitFor();

  // The subtask holds its lock (until this test opens the gate): the viewer shows who holds what.
  const lease = runPage.locator('[data-testid="lock-lease"][data-subtask-id="s1"]');
  await lease.waitFor({ timeout: 60_000 });
  expect(await lease.textContent()).toContain('executor-1');
  expect(await lease.locator('[data-testid="lock-token"]').textContent()).toMatch(/^\d+$/);
  expect(await lease.textContent()).toContain('subtract.js');
  await runPage.locator('[data-testid="run-state"][data-state="code"]').waitFor();
  await runPage.locator('[data-testid="subtask-row"][data-subtask-id="s1"]').waitFor();
  await runPage.locator('[data-testid="subtask-row"][data-subtask-id="s1"] [data-testid="subtask-lock"]').waitFor();
  await shot(runPage, 'run-page-lock-held');

  // Meanwhile the list shows the task running, its run in `code`.
  await listPage.locator(`[data-testid="task-row"][data-task-id="${taskId}"][data-status="running"]`).waitFor();
  await expect(row.locator('[data-testid="task-run-state"]').textContent()).resolves.toBe('code');
  await shot(listPage, 'runs-list-running');

  writeFileSync(gateFile, 'released\n');

  // The run page follows the run to its end, live.
  await runPage.locator('[data-testid="run-state"][data-state="done"]').waitFor({ timeout: 120_000 });
  await runPage.locator('[data-testid="run-status"][data-status="done"]').waitFor();
  const moves = await runPage.locator('[data-testid="transition-row"]').evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-from'), r.getAttribute('data-to')]));
  const states = [moves[0]?.[0], ...moves.map((m) => m[1])];
  expect(states).toEqual(['intake', 'preflight', 'plan', 'code', 'review', 'done']);
  for (const state of states) await runPage.locator(`[data-testid="workflow-graph"] .vue-flow__node[data-id="${state}"].visited`).waitFor();
  await runPage.locator('[data-testid="no-locks"]').waitFor();
  await runPage.locator('[data-testid="workflow-graph"] .vue-flow__node.current.done').waitFor();
  await runPage.locator('[data-testid="usage-model"]').first().waitFor();
  expect(await neverReloaded(runPage)).toBe(true);
  await shot(runPage, 'run-page-done');

  // Open a model step: its model, tokens and cost.
  await runPage.locator('[data-testid="step-kind-filter"]').selectOption('model');
  const modelRow = runPage.locator('[data-testid="step-row"][data-has-usage="true"]').last();
  await modelRow.waitFor();
  const key = String(await modelRow.getAttribute('data-step-key'));
  await modelRow.click();
  const detail = runPage.locator(`[data-testid="step-detail"][data-step-key="${key}"]`);
  await detail.waitFor();
  expect(runPage.url()).toBe(`${e2e.gateway}/runs/${runId}/steps/${encodeURIComponent(key)}`);
  await shot(runPage, 'step-detail');
  await expect(detail.locator('[data-testid="step-provider"]').textContent()).resolves.toBe('scripted');
  expect((await detail.locator('[data-testid="step-model"]').textContent())?.trim()).not.toMatch(/^(—|)$/);
  // Token counts are written like 950 or 1.2k; a scripted reply still counts its prompt's tokens.
  expect(await detail.locator('[data-testid="step-tokens-in"]').textContent()).toMatch(/^[1-9][\d.]*[kM]?$/);
  expect(await detail.locator('[data-testid="step-tokens-out"]').textContent()).toMatch(/^\d/);
  expect(await detail.locator('[data-testid="step-cost"]').textContent()).toMatch(/^\$\d/);
  expect(await detail.locator('[data-testid="step-duration"]').textContent()).toMatch(/\d/);

  // The step's deep link, pasted in a new tab after the run ended, opens the same step, and shows
  // its model, tokens and cost from the recorded step: that page saw no live usage event.
  const tokensIn = await detail.locator('[data-testid="step-tokens-in"]').textContent();
  const linked = await context.newPage();
  await linked.goto(`${e2e.gateway}/runs/${runId}/steps/${encodeURIComponent(key)}`);
  const linkedDetail = linked.locator(`[data-testid="step-detail"][data-step-key="${key}"]`);
  await linkedDetail.waitFor();
  expect(await linkedDetail.getAttribute('data-call-source')).toBe('recorded');
  await expect(linkedDetail.locator('[data-testid="step-provider"]').textContent()).resolves.toBe('scripted');
  expect((await linkedDetail.locator('[data-testid="step-model"]').textContent())?.trim()).not.toMatch(/^(—|)$/);
  await expect(linkedDetail.locator('[data-testid="step-tokens-in"]').textContent()).resolves.toBe(tokensIn);
  expect(await linkedDetail.locator('[data-testid="step-tokens-out"]').textContent()).toMatch(/^\d/);
  expect(await linkedDetail.locator('[data-testid="step-cost"]').textContent()).toMatch(/^\$\d/);
  expect(await linkedDetail.locator('[data-testid="step-duration"]').textContent()).toMatch(/\d/);
  await shot(linked, 'step-detail-deep-link');
  await linked.close();

  // And the list, never reloaded, shows the task succeeded and its run done.
  await listPage.locator(`[data-testid="task-row"][data-task-id="${taskId}"][data-status="succeeded"]`).waitFor({ timeout: 30_000 });
  await expect(row.locator('[data-testid="task-run-state"]').textContent()).resolves.toBe('done');
  expect(await neverReloaded(listPage)).toBe(true);
  await shot(listPage, 'runs-list-done');
  await runPage.close();
});

it('shows an error state for a run that does not exist', async () => {
  const unknown = '00000000-0000-4000-8000-000000000000';
  const page = await context.newPage();
  await page.goto(`${e2e.gateway}/runs/${unknown}`);
  const error = page.locator('[data-testid="error-state"]');
  await error.waitFor();
  await shot(page, 'error-unknown-run');
  expect(await error.getAttribute('data-kind')).toBe('not_found');
  expect(await error.locator('[data-testid="error-message"]').textContent()).toContain(unknown);
  await page.close();
});

it('shows an error state, not a blank page, when the gateway is down', async () => {
  expect(taskId).not.toBe('');
  const gateway = e2e.cluster.running.find((p) => p.name === 'gateway');
  if (!gateway) throw new Error('the gateway process is not running');
  gateway.kill('SIGTERM');
  await gateway.exited;

  // The open list notices the lost stream; following a link shows why nothing loads.
  await listPage.locator('[data-testid="stream-state"]:not([data-state="live"])').waitFor({ timeout: 30_000 });
  await listPage.locator(`[data-testid="task-row"][data-task-id="${taskId}"] [data-testid="run-link"]`).click();
  const error = listPage.locator('[data-testid="error-state"]');
  await error.waitFor();
  expect(await error.getAttribute('data-kind')).toBe('unreachable');
  expect(await error.textContent()).toContain('cannot be reached');
  await shot(listPage, 'error-gateway-down');
});
