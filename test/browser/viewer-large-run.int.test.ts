/**
 * Issue 9, "a run of several thousand steps stays responsive (virtualised lists); deep links to
 * a run and a step", in a real browser (Debian's Chromium, headless, driven by playwright-core)
 * against the whole cluster as processes with scripted models.
 *
 * A question runs the short `explain` workflow to its end (its own steps are counted once it
 * has ended); then this test records 5,000 more agent steps for the task's run the way an
 * executor does: signed `maestro.events.work.step` events on the bus (with the cluster's
 * signing key), which the orchestrator stores. Once the gateway lists them all, the run page
 * shows every step in its timeline's count while the DOM holds only a few dozen rows; scrolled
 * to the top and to the end it shows the first and the last step, still with a bounded number
 * of rows; and a deep link to step 4,800 (far past the first page of 1,000 steps the run's read
 * carries) opens that step's detail and scrolls its row into view. The page's live stream of the
 * ended run ends as it does for a small run (`ended`), rather than being cut and reconnecting
 * over and over. Screenshots go to test/browser/artifacts/ (`large-run-*`). Nothing here asserts
 * a time: the time until the last step showed is printed only.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, type Page } from 'playwright-core';
import { connectBus, type Bus } from '@maestro/bus';
import { Subjects, WorkStepEventSchema, type WorkStepEvent } from '@maestro/contracts';
import { createSilentLogger } from '@maestro/runtime';
import { testServers } from '@maestro/testing';
import { getJson, postJson, repoRoot, startE2eCluster, waitForTaskEnd, type E2eCluster } from '../e2e/harness.js';
import { browserArtifacts, checkBrowserPrerequisites, launchSignedInViewer } from './browser-harness.js';

jest.setTimeout(240_000);

const artifacts = browserArtifacts;
const workdir = mkdtempSync(join(tmpdir(), 'maestro-browser-large-'));
/** The demo script answers any question (its `answer` rule) and plans nothing. */
const demoScriptPath = join(repoRoot, 'examples', 'scripts', 'demo-script.json');

/** How many steps this test records for the run, on top of the run's own. */
const STEPS = 5_000;
/** The step a deep link opens: far past the first page (1,000) that `GET /v1/runs/:id` carries. */
const LINKED_STEP = 4_800;
/** The one subtask and executor the recorded steps claim: one long agent loop. */
const SUBTASK = 's1';
const EXECUTOR = 'executor-1';
/** Publishes awaiting their stream ack at once. */
const PUBLISH_CONCURRENCY = 64;
/**
 * Step rows the DOM may hold at once. The timeline shows about 16 rows (460 px of 30 px rows)
 * plus 12 overscan on each side; rendering every step would be thousands.
 */
const MAX_ROWS = 200;

/** A recorded step as `GET /v1/tasks/:id/steps` lists it (the fields this test reads). */
interface ListedStep {
  runId: string;
  subtaskId: string;
  executorId: string;
  step: number;
  kind: string;
  at: string;
}

let e2e: E2eCluster;
/** A bus holding the cluster's signing key, as an executor's does: the step consumer refuses unsigned steps. */
let signedBus: Bus;
let context: BrowserContext;
/** The cluster's bus signing key, given to every service so this test can sign as they do. */
const signingKey = randomBytes(32).toString('base64url');

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

/** The viewer's key for a step (`packages/web/src/lib/step-key.ts`): also its part of a deep link. */
function stepKeyOf(step: Pick<WorkStepEvent, 'subtaskId' | 'executorId' | 'step' | 'at'>): string {
  return `${step.subtaskId}~${step.executorId}~${step.step}~${Date.parse(step.at)}`;
}

/** Every step of the task, read page by page (1,000 a page, the largest the gateway serves). */
async function listAllSteps(taskId: string): Promise<ListedStep[]> {
  const steps: ListedStep[] = [];
  let after = '';
  for (;;) {
    const query = new URLSearchParams({ limit: '1000', ...(after !== '' ? { after } : {}) });
    const page = await getJson(`${e2e.gateway}/v1/tasks/${taskId}/steps?${query.toString()}`);
    if (!Array.isArray(page['steps'])) throw new Error(`GET /v1/tasks/${taskId}/steps: ${JSON.stringify(page)}`);
    steps.push(...(page['steps'] as ListedStep[]));
    after = String(page['nextAfter'] ?? '');
    if (after === '') return steps;
  }
}

/**
 * Step `n` (1-based) of the long agent loop: odd steps are model turns with their call, even
 * ones tool calls with arguments and an observation (every 97th of them failing), one second
 * apart from `startMs`.
 */
function makeStep(taskId: string, runId: string, n: number, startMs: number): WorkStepEvent {
  const common = { taskId, runId, subtaskId: SUBTASK, executorId: EXECUTOR, attempt: 1, step: n, at: new Date(startMs + n * 1000).toISOString() };
  const file = `src/module-${Math.floor(n / 2) % 40}.js`;
  if (n % 2 === 1) {
    const tool = n % 4 === 1 ? 'fs.read' : 'exec';
    return {
      ...common,
      kind: 'model',
      summary: `deepseek/deepseek-chat: Step ${n}: next I look at ${file}. → ${tool}`,
      ok: true,
      durationMs: 800 + (n % 17) * 40,
      modelCall: { provider: 'deepseek', model: 'deepseek-chat', scripted: false, inputTokens: 2_000 + n * 3, cachedInputTokens: 1_500, outputTokens: 120 + (n % 50), reasoningTokens: 0, usd: 0.0004, priced: true },
    };
  }
  const failed = n % 97 === 0;
  if (n % 4 === 2) {
    const args = JSON.stringify({ path: file });
    return { ...common, kind: 'tool', tool: 'fs.read', summary: `fs.read ${args} → export function f${n}() {}`, ok: true, durationMs: 3, arguments: args, observation: `// ${file}\nexport function f${n}() {}\n` };
  }
  const args = JSON.stringify({ argv: ['node', '--test', `test/module-${n % 40}.test.js`] });
  const observation = failed ? `exit 1\nnot ok 1 - step ${n} assertion failed` : `exit 0\nok 1 - step ${n} passes`;
  return { ...common, kind: 'tool', tool: 'exec', summary: `exec ${args} → ${observation.split('\n')[0]}`, ok: !failed, durationMs: 450, arguments: args, observation };
}

/** Publishes every event, signed, with at most `concurrency` awaiting the stream's ack at once. */
async function publishAll(bus: Bus, events: readonly WorkStepEvent[], concurrency: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < events.length) {
      const event = events[next++]!;
      // The dedup id makes a retried publish harmless, as the executor's outbox does.
      await bus.publish(Subjects.workStep, WorkStepEventSchema.parse(event), { msgId: `large-run-${event.taskId}-${event.step}` });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** What the timeline's scroller shows: the step rows in the DOM, and the `who` text (`s1·executor-1#N`) of those in view. */
async function timelineView(page: Page): Promise<{ rows: number; visible: string[]; scrollTop: number; scrollHeight: number }> {
  return page.locator('[data-testid="step-timeline"] .scroller').evaluate((scroller) => {
    const box = scroller.getBoundingClientRect();
    const rows = [...scroller.querySelectorAll('[data-testid="step-row"]')];
    const visible = rows
      .filter((row) => {
        const r = row.getBoundingClientRect();
        // At least half the row inside the scroller's box.
        return r.top + r.height / 2 >= box.top && r.top + r.height / 2 <= box.bottom;
      })
      .map((row) => row.querySelector('.who')?.textContent?.trim() ?? '');
    return { rows: rows.length, visible, scrollTop: scroller.scrollTop, scrollHeight: scroller.scrollHeight };
  });
}

/** Scrolls the timeline to `where` as a person dragging its scrollbar would, and lets the virtualiser render. */
async function scrollTimeline(page: Page, where: 'top' | 'end'): Promise<void> {
  await page.locator('[data-testid="step-timeline"] .scroller').evaluate((scroller, to) => {
    scroller.scrollTop = to === 'top' ? 0 : scroller.scrollHeight;
  }, where);
}

beforeAll(async () => {
  checkBrowserPrerequisites();
  e2e = await startE2eCluster({ scriptPath: demoScriptPath, executors: 1, executorConcurrency: 1, env: { MAESTRO_BUS_SIGNING_KEY: signingKey } });
  signedBus = await connectBus({ url: testServers.natsUrl, name: 'executor-1', logger: createSilentLogger(), namespace: e2e.bus.namespace.name, signing: { key: signingKey } });
  context = await launchSignedInViewer(join(workdir, 'chromium-profile'), e2e.apiKey);
});

afterAll(async () => {
  await context?.close();
  await signedBus?.close();
  await e2e?.stop();
  rmSync(workdir, { recursive: true, force: true });
});

/** Set by the first test: the task, its run, the steps this test recorded and how many steps the run has. */
let taskId = '';
let runId = '';
let events: WorkStepEvent[] = [];
let total = 0;

it('records 5,000 signed agent steps for an ended run, and the gateway lists them all', async () => {
  // A question: the explain workflow answers it and ends, planning no subtask.
  const submitted = await postJson(`${e2e.gateway}/v1/tasks`, { goal: 'What does src/add.js export?', repoPath: e2e.repo, project: 'browser', workflow: 'explain' });
  taskId = String(submitted['id']);
  const done = await waitForTaskEnd(e2e.gateway, taskId, 120_000);
  expect(done['status']).toBe('succeeded');
  runId = String(done['runId']);
  expect(runId).not.toBe('');

  // The run's own steps (Orion's recall for the answer), all recorded by now: the run has ended.
  const own = await listAllSteps(taskId);
  expect(own.every((s) => s.subtaskId !== SUBTASK)).toBe(true);
  // The recorded steps come after the run's own, one second apart.
  const startMs = Math.max(Date.now(), ...own.map((s) => Date.parse(s.at))) + 1000;
  events = Array.from({ length: STEPS }, (_, i) => makeStep(taskId, runId, i + 1, startMs));
  const published = Date.now();
  await publishAll(signedBus, events, PUBLISH_CONCURRENCY);
  console.log(`large run: published ${STEPS} signed work.step events in ${Date.now() - published} ms`);

  // Stored: the gateway lists the run's own steps and every recorded one, each once.
  const deadline = Date.now() + 90_000;
  let listed = await listAllSteps(taskId);
  while (listed.length < own.length + STEPS) {
    if (Date.now() > deadline) throw new Error(`only ${listed.length} of ${own.length + STEPS} steps stored after 90 s`);
    await new Promise((r) => setTimeout(r, 1000));
    listed = await listAllSteps(taskId);
  }
  console.log(`large run: ${listed.length} steps stored ${Date.now() - published} ms after the first publish`);
  const mine = listed.filter((s) => s.subtaskId === SUBTASK && s.executorId === EXECUTOR);
  expect(new Set(mine.map((s) => s.step)).size).toBe(STEPS);
  expect(listed).toHaveLength(own.length + STEPS);
  expect(mine.filter((s) => s.kind === 'model')).toHaveLength(STEPS / 2);
  expect(mine.filter((s) => s.kind === 'tool')).toHaveLength(STEPS / 2);
  total = listed.filter((s) => s.runId === runId).length;
  expect(total).toBe(listed.length);
});

it('shows every step in the timeline with a bounded number of rows, at the end, the top and the end again', async () => {
  expect(total).toBeGreaterThan(STEPS - 1);
  // The run page: every step counted, a few dozen rows in the DOM.
  const page = await context.newPage();
  const opened = Date.now();
  await page.goto(`${e2e.gateway}/runs/${runId}`);
  await page.locator('[data-testid="run-page"]').waitFor();
  const timeline = page.locator('[data-testid="step-timeline"]');
  await page.locator(`[data-testid="step-timeline"][data-count="${total}"]`).waitFor({ timeout: 60_000 });
  await expect(timeline.locator('h2').textContent()).resolves.toContain(`(${total} of ${total})`);
  const last = events.at(-1)!;
  // Following is on and no step is open: the timeline keeps the newest step in view.
  await page.locator(`[data-testid="step-row"][data-step-key="${stepKeyOf(last)}"]`).waitFor();
  const showedLast = Date.now() - opened;
  const following = await timelineView(page);
  console.log(`large run: the run page showed all ${total} steps and the last one ${showedLast} ms after it was opened, with ${following.rows} step rows in the DOM`);
  expect(following.visible).toContain(`${SUBTASK}·${EXECUTOR}#${STEPS}`);
  expect(following.rows).toBeGreaterThan(0);
  expect(following.rows).toBeLessThan(MAX_ROWS);
  // The scroll area is as tall as every row together: the list holds them all, the DOM a few.
  expect(following.scrollHeight).toBeGreaterThanOrEqual(total * 30);
  await shot(page, 'large-run-page');

  // Scrolled to the top: the first of the recorded steps is there, the last is not, rows bounded.
  await page.locator('[data-testid="step-timeline"] label input[type="checkbox"]').uncheck();
  await scrollTimeline(page, 'top');
  await page.locator(`[data-testid="step-row"][data-step-key="${stepKeyOf(events[0]!)}"]`).waitFor();
  const top = await timelineView(page);
  expect(top.scrollTop).toBe(0);
  expect(top.visible).toContain(`${SUBTASK}·${EXECUTOR}#1`);
  expect(top.visible).not.toContain(`${SUBTASK}·${EXECUTOR}#${STEPS}`);
  expect(top.rows).toBeLessThan(MAX_ROWS);
  await shot(page, 'large-run-top');

  // Scrolled to the end again: the last step in view, its number shown, rows still bounded.
  await scrollTimeline(page, 'end');
  const lastRow = page.locator(`[data-testid="step-row"][data-step-key="${stepKeyOf(last)}"]`);
  await lastRow.waitFor();
  const end = await timelineView(page);
  expect(end.visible).toContain(`${SUBTASK}·${EXECUTOR}#${STEPS}`);
  expect(end.visible).not.toContain(`${SUBTASK}·${EXECUTOR}#1`);
  expect(end.rows).toBeLessThan(MAX_ROWS);
  await expect(lastRow.textContent()).resolves.toContain(`#${STEPS}`);
  await shot(page, 'large-run-end');
  await page.close();
});

it('opens a deep link to step 4,800, past the first page of steps, with its detail and its row in view', async () => {
  expect(total).toBeGreaterThan(STEPS - 1);
  // Pasted in a new tab. A tool step: its tool, arguments and observation.
  const linked = events[LINKED_STEP - 1]!;
  expect(linked).toMatchObject({ step: LINKED_STEP, kind: 'tool' });
  const key = stepKeyOf(linked);
  const deep = await context.newPage();
  await deep.goto(`${e2e.gateway}/runs/${runId}/steps/${encodeURIComponent(key)}`);
  const detail = deep.locator(`[data-testid="step-detail"][data-step-key="${key}"]`);
  await detail.waitFor({ timeout: 60_000 });
  await expect(detail.locator('h2').textContent()).resolves.toBe(`Step ${LINKED_STEP} of ${SUBTASK} on ${EXECUTOR}`);
  await expect(detail.locator('[data-testid="step-tool"]').textContent()).resolves.toBe(linked.tool);
  await expect(detail.locator('[data-testid="step-args"] pre').textContent()).resolves.toBe(linked.arguments);
  await expect(detail.locator('[data-testid="step-observation"] pre').textContent()).resolves.toBe(linked.observation);
  const linkedRow = deep.locator(`[data-testid="step-row"][data-step-key="${key}"].selected`);
  await linkedRow.waitFor();
  const around = await timelineView(deep);
  expect(around.visible).toContain(`${SUBTASK}·${EXECUTOR}#${LINKED_STEP}`);
  expect(around.rows).toBeLessThan(MAX_ROWS);
  // The rest of the steps may still be arriving (pages and the stream's replay): wait for all.
  await deep.locator(`[data-testid="step-timeline"][data-count="${total}"]`).waitFor({ timeout: 60_000 });
  await expect(deep.locator('[data-testid="step-timeline"] h2').textContent()).resolves.toContain(`(${total} of ${total})`);
  await shot(deep, 'large-run-step-deep-link');
  await deep.close();
});

it('follows the ended run to its end on the live stream: the page says the stream ended, not reconnecting', async () => {
  expect(total).toBeGreaterThan(STEPS - 1);
  const page = await context.newPage();
  await page.goto(`${e2e.gateway}/runs/${runId}`);
  await page.locator(`[data-testid="step-timeline"][data-count="${total}"]`).waitFor({ timeout: 60_000 });
  // The run's event stream replays its history and recorded steps, then its run.finished, and
  // ends; the page then says `ended`, as it does for a small run. A stream cut before the end
  // leaves the page reconnecting (and reading every step again) for as long as it is open.
  const ended = page.locator('[data-testid="stream-state"][data-state="ended"]');
  try {
    await ended.waitFor({ timeout: 30_000 });
  } catch (err) {
    const state = await page.locator('[data-testid="stream-state"]').getAttribute('data-state');
    const gatewayLog = readFileSync(join(e2e.logDir, 'gateway.log'), 'utf8');
    const cut = gatewayLog.split('\n').filter((line) => line.includes(runId) && line.includes('"msg":"event stream ended: client too slow"')).length;
    await shot(page, 'large-run-stream-not-ended');
    throw new Error(`the run page's live stream never ended after 30 s (it shows "${state}"); the gateway cut the run's event stream ${cut} times as "client too slow"`, { cause: err });
  }
  await shot(page, 'large-run-stream-ended');
  await page.close();
});

it('on a run whose steps all come with the first read (600), follows to the newest step and scrolls a deep link to its row', async () => {
  // A second question, answered and ended, with 600 recorded steps: fewer than the first page
  // of GET /v1/runs/:id, so the timeline has them all at its first render (no later page moves it).
  const MID = 600;
  const submitted = await postJson(`${e2e.gateway}/v1/tasks`, { goal: 'What does src/add.js export?', repoPath: e2e.repo, project: 'browser', workflow: 'explain' });
  const midTask = String(submitted['id']);
  const done = await waitForTaskEnd(e2e.gateway, midTask, 120_000);
  const midRun = String(done['runId']);
  const own = await listAllSteps(midTask);
  const startMs = Math.max(Date.now(), ...own.map((s) => Date.parse(s.at))) + 1000;
  const midEvents = Array.from({ length: MID }, (_, i) => makeStep(midTask, midRun, i + 1, startMs));
  await publishAll(signedBus, midEvents, PUBLISH_CONCURRENCY);
  const deadline = Date.now() + 60_000;
  while ((await listAllSteps(midTask)).length < own.length + MID) {
    if (Date.now() > deadline) throw new Error(`the ${MID} steps were not all stored after 60 s`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const count = own.length + MID;

  // Opened with every step already there: the timeline shows the newest one.
  const page = await context.newPage();
  await page.goto(`${e2e.gateway}/runs/${midRun}`);
  await page.locator(`[data-testid="step-timeline"][data-count="${count}"]`).waitFor({ timeout: 60_000 });
  await page.locator(`[data-testid="step-row"]`).first().waitFor();
  const newest = `${SUBTASK}·${EXECUTOR}#${MID}`;
  const deadlineFollow = Date.now() + 10_000;
  let view = await timelineView(page);
  while (!view.visible.includes(newest) && Date.now() < deadlineFollow) {
    await new Promise((r) => setTimeout(r, 200));
    view = await timelineView(page);
  }
  expect(view.visible).toContain(newest);
  await shot(page, 'mid-run-follows-newest');
  await page.close();

  // A deep link to a step in the middle: its row is scrolled into view.
  const linked = midEvents[299]!;
  const key = stepKeyOf(linked);
  const deep = await context.newPage();
  await deep.goto(`${e2e.gateway}/runs/${midRun}/steps/${encodeURIComponent(key)}`);
  await deep.locator(`[data-testid="step-detail"][data-step-key="${key}"]`).waitFor({ timeout: 60_000 });
  await deep.locator(`[data-testid="step-row"][data-step-key="${key}"].selected`).waitFor({ timeout: 10_000 });
  expect((await timelineView(deep)).visible).toContain(`${SUBTASK}·${EXECUTOR}#300`);
  await shot(deep, 'mid-run-step-deep-link');
  await deep.close();
});
