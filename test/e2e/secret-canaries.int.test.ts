/**
 * Issue 10, "secrets never leave a process": canary credentials given to every service (the
 * tactical provider's key, the database URL's password) and planted in a repository file the
 * agent reads and prints must appear in none of what leaves the services — the requests the
 * model provider received, the service logs, the messages on the bus, the stored agent steps,
 * the task — and the redaction marker must stand where they were, so the test cannot pass by
 * the agent never having seen them.
 *
 * The gateway's operator key is a canary too: it authenticates every request of the test and
 * must not be echoed anywhere.
 *
 * The tactical model is DeepSeek's adapter talking to a fake OpenAI-compatible server that
 * replays a script and records every request; the strategic model is the scripted provider.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateApiKey } from '@maestro/contracts';
import { ScriptedProvider, parseScript } from '@maestro/llm';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '@maestro/testing';
import { getJson, postJson, startE2eCluster, waitForTaskEnd, writeE2eScript, type E2eCluster } from './harness.js';

jest.setTimeout(240_000);

const apiKeyCanary = `sk-canary-${randomBytes(12).toString('hex')}`;
const passwordCanary = `canarypw${randomBytes(8).toString('hex')}`;
/** The gateway's operator key: the test sends it in each request's header, and nothing may echo it. */
const gatewayKeyCanary = generateApiKey().key;
const canaries = [apiKeyCanary, passwordCanary, gatewayKeyCanary];
const apiKeyMarker = '[REDACTED:DEEPSEEK_API_KEY]';
const passwordMarker = '[REDACTED:MAESTRO_DATABASE_URL]';

const strategicScript = writeE2eScript('secret canaries: Orion plans one subtask that reads secrets.txt, then approves', [
  {
    name: 'plan',
    when: { intent: 'plan' },
    turns: [
      {
        content: JSON.stringify({
          subtasks: [
            {
              id: 's1',
              title: 'Add src/note.js',
              instructions: "Read secrets.txt first, then add src/note.js exporting note = 'configured'.",
              files: ['src/note.js'],
            },
          ],
        }),
      },
    ],
  },
  { name: 'review', when: { intent: 'review' }, turns: [{ content: JSON.stringify({ approved: true, summary: 'src/note.js exists.' }) }] },
]);

/** The tactical agent: reads the file, prints it, writes and commits, and ends by quoting the key. */
const tacticalScript = parseScript({
  description: 'secret canaries: a tactical agent that reads and prints a file holding credentials',
  rules: [
    {
      name: 'code',
      when: { intent: 'code' },
      turns: [
        { content: 'Reading secrets.txt.', toolCalls: [{ name: 'fs.read', arguments: { path: 'secrets.txt' } }] },
        { content: 'Printing it.', toolCalls: [{ name: 'exec', arguments: { argv: ['cat', 'secrets.txt'] } }] },
        {
          content: 'Adding the note.',
          toolCalls: [
            { name: 'fs.write', arguments: { path: 'src/note.js', content: "export const note = 'configured';\n" } },
            { name: 'git.commit', arguments: { message: 'Add src/note.js', paths: ['src/note.js'] } },
          ],
        },
        { content: `Added src/note.js. For the record, secrets.txt holds the key ${apiKeyCanary} and the password ${passwordCanary}.` },
      ],
    },
  ],
});

let fake: FakeOpenAIServer;
let e2e: E2eCluster;
/** Every message published in the cluster's namespace (events, work, results, steps), as JSON text. */
const published: string[] = [];

beforeAll(async () => {
  const scripted = new ScriptedProvider(tacticalScript, 'secret canaries tactical script');
  fake = await startFakeOpenAIServer({ reply: (request) => scripted.complete(request) });
  e2e = await startE2eCluster({
    scriptPath: strategicScript,
    executors: 1,
    databasePassword: passwordCanary,
    env: {
      MAESTRO_TACTICAL_MODEL: 'deepseek:deepseek-chat',
      MAESTRO_DEEPSEEK_BASE_URL: fake.openaiBaseUrl,
      DEEPSEEK_API_KEY: apiKeyCanary,
      MAESTRO_PROVIDER_FORWARD_INTENT: 'true',
      MAESTRO_GATEWAY_BOOTSTRAP_KEY: gatewayKeyCanary,
    },
  });
  e2e.bus.subscribe('>', null, (payload) => published.push(JSON.stringify(payload)));
  writeFileSync(join(e2e.repo, 'secrets.txt'), `DEEPSEEK_API_KEY=${apiKeyCanary}\nDATABASE_PASSWORD=${passwordCanary}\n`);
  execFileSync('git', ['add', 'secrets.txt'], { cwd: e2e.repo });
  execFileSync('git', ['-c', 'user.email=test@example.com', '-c', 'user.name=Test', 'commit', '-q', '-m', 'a file holding credentials'], { cwd: e2e.repo });
});

afterAll(async () => {
  await e2e?.stop();
  await fake?.close();
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

function expectNoCanary(where: string, text: string): void {
  for (const canary of canaries) {
    if (text.includes(canary)) throw new Error(`${where} holds the canary ${canary}: …${text.slice(Math.max(0, text.indexOf(canary) - 200), text.indexOf(canary) + 100)}…`);
  }
}

it('keeps the canaries out of prompts, logs, bus messages, stored steps and the task, with markers where they were', async () => {
  const submitted = await postJson(`${e2e.gateway}/v1/tasks`, { goal: 'Add a note module to the calculator.', repoPath: e2e.repo, project: 'sample-calculator' });
  const taskId = String(submitted['id']);
  const task = await waitForTaskEnd(e2e.gateway, taskId, 180_000);
  expect(task['status']).toBe('succeeded');

  // Prompts: the provider got every turn of the agent, the file's contents among them, redacted.
  // (Its key rightly arrives in the Authorization header of each call: that is what a key is for.)
  expect(fake.chatRequests.length).toBeGreaterThanOrEqual(4);
  const prompts = JSON.stringify(fake.requests.map((r) => r.body));
  expectNoCanary('a request to the model provider', prompts);
  expect(prompts).toContain(apiKeyMarker);
  expect(prompts).toContain(passwordMarker);

  // Stored steps: the observations of fs.read and cat, and the model's last reply, redacted.
  const steps = JSON.stringify(await getJson(`${e2e.gateway}/v1/tasks/${taskId}/steps?limit=500`));
  expectNoCanary('the stored agent steps', steps);
  expect(steps).toContain(apiKeyMarker);
  expect(steps).toContain(passwordMarker);

  // The task as the API serves it.
  expectNoCanary('the task JSON', JSON.stringify(await getJson(`${e2e.gateway}/v1/tasks/${taskId}`)));

  // Everything published on the bus while the task ran.
  expect(published.length).toBeGreaterThan(0);
  const bus = published.join('\n');
  expectNoCanary('a bus message', bus);
  expect(bus).toContain(apiKeyMarker);

  // Every line every service logged (at debug).
  const logs = filesUnder(e2e.logDir);
  expect(logs.length).toBeGreaterThan(0);
  for (const file of logs) expectNoCanary(`the log ${file}`, readFileSync(file, 'utf8'));
});
