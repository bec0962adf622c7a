import { execFileSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChatMessage } from '@maestro/llm';
import { createSecretRegistry } from '@maestro/runtime';
import { runAgentLoop, type AgentStep } from '../agent-loop.js';
import { createDefaultToolRegistry } from '../default-tool-registry.js';
import { scriptedChatModel } from '../scripted-chat-model.js';

const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

describe('runAgentLoop with a redactor', () => {
  const canary = `sk-canary-loop-${process.pid}-0123456789`;
  let repo: string;
  beforeEach(() => {
    repo = realpathSync(mkdtempSync(join(tmpdir(), 'maestro-loop-redaction-')));
    git(repo, 'init', '-q', '-b', 'main');
    git(repo, 'config', 'user.email', 'test@example.com');
    git(repo, 'config', 'user.name', 'Test');
    writeFileSync(join(repo, 'secrets.txt'), `OPENAI_API_KEY=${canary}\n`);
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'a file that holds a key');
  });
  afterEach(() => rmSync(repo, { recursive: true, force: true }));

  const script = {
    rules: [
      {
        name: 'code',
        when: { intent: 'code' },
        turns: [
          { content: 'Reading the file.', toolCalls: [{ name: 'fs.read', arguments: { path: 'secrets.txt' } }] },
          { content: 'Printing it.', toolCalls: [{ name: 'exec', arguments: { argv: ['cat', 'secrets.txt'] } }] },
          { content: `Done; the key was ${canary}.` },
        ],
      },
    ],
  };

  async function run(redact: boolean): Promise<{ seen: ChatMessage[][]; steps: AgentStep[]; verdict: unknown }> {
    const model = scriptedChatModel(script);
    const steps: AgentStep[] = [];
    const verdict = await runAgentLoop({
      model,
      tools: createDefaultToolRegistry(),
      workspace: repo,
      task: `Look at secrets.txt (it should hold ${canary}).`,
      testCommand: [],
      onStep: (step) => void steps.push(step),
      ...(redact ? { redactor: createSecretRegistry({ env: { OPENAI_API_KEY: canary } }) } : {}),
    });
    return { seen: model.seen, steps, verdict };
  }

  it('sends no secret to the model and reports none in steps or the verdict, marking where each was', async () => {
    const { seen, steps, verdict } = await run(true);
    const prompts = JSON.stringify(seen);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(prompts).not.toContain(canary);
    // The observations of both tool calls reached the model, redacted.
    const toolMessages = seen.at(-1)?.filter((m) => m.role === 'tool') ?? [];
    expect(toolMessages).toHaveLength(2);
    for (const message of toolMessages) expect(message.content).toContain('[REDACTED:OPENAI_API_KEY]');
    expect(JSON.stringify(steps)).not.toContain(canary);
    expect(steps.filter((s) => s.observation?.includes('[REDACTED:OPENAI_API_KEY]'))).toHaveLength(2);
    expect(JSON.stringify(verdict)).not.toContain(canary);
    expect(JSON.stringify(verdict)).toContain('[REDACTED:OPENAI_API_KEY]');
  });

  it('changes nothing without a redactor (the default)', async () => {
    const { seen, steps } = await run(false);
    expect(JSON.stringify(seen)).toContain(canary);
    expect(JSON.stringify(steps)).toContain(canary);
  });
});
