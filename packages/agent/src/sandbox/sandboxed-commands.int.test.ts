import { execFileSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAgentLoop, type AgentStep } from '../agent-loop.js';
import { createDefaultToolRegistry } from '../default-tool-registry.js';
import { scriptedChatModel } from '../scripted-chat-model.js';
import { BubblewrapSandbox } from './bubblewrap-sandbox.js';
import { RefusingSandbox } from './refusing-sandbox.js';
import type { Sandbox } from './sandbox.js';
import { UnsandboxedRunner } from './unsandboxed-runner.js';

const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

/** The test file passes only inside the sandbox: its HOME is the sandbox's, the host's /etc/shadow is not there. */
const SANDBOX_AWARE_TEST = [
  "const { test } = require('node:test');",
  "const assert = require('node:assert');",
  "const fs = require('node:fs');",
  "const { sum } = require('./sum.js');",
  "test('sum adds two numbers', () => assert.strictEqual(sum(2, 3), 5));",
  "test('runs sandboxed', () => { assert.strictEqual(process.env.HOME, '/tmp/home'); assert.strictEqual(fs.existsSync('/etc/shadow'), false); });",
  '',
].join('\n');

describe('commands of the agent loop in the sandbox', () => {
  let repo: string;
  beforeEach(() => {
    repo = realpathSync(mkdtempSync(join(tmpdir(), 'maestro-sandboxed-loop-')));
    git(repo, 'init', '-q', '-b', 'main');
    git(repo, 'config', 'user.email', 'test@example.com');
    git(repo, 'config', 'user.name', 'Test');
    writeFileSync(join(repo, 'sum.test.js'), SANDBOX_AWARE_TEST);
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'tests first');
  });
  afterEach(() => rmSync(repo, { recursive: true, force: true }));

  async function runWith(sandbox: Sandbox): Promise<{ status: string; steps: AgentStep[] }> {
    const steps: AgentStep[] = [];
    const model = scriptedChatModel({
      rules: [
        {
          name: 'coder',
          turns: [
            { toolCalls: [{ name: 'fs.write', arguments: { path: 'sum.js', content: 'exports.sum = (a, b) => a + b;\n' } }] },
            { toolCalls: [{ name: 'exec', arguments: { argv: ['node', '--test'] } }] },
            { content: 'Done.' },
          ],
        },
      ],
    });
    const verdict = await runAgentLoop({ model, tools: createDefaultToolRegistry(), workspace: repo, task: 'add sum', testCommand: ['node', '--test'], sandbox, onStep: (step) => void steps.push(step) });
    return { status: verdict.status, steps };
  }

  const observation = (steps: AgentStep[], tool: string): string => {
    const step = steps.find((s) => s.kind === 'tool' && s.tool === tool);
    return step?.kind === 'tool' ? (step.observation ?? '') : '';
  };

  it('runs exec and the test gate inside bubblewrap', async () => {
    const { status, steps } = await runWith(new BubblewrapSandbox());
    expect(observation(steps, 'exec')).toMatch(/^exit code 0/);
    expect(status).toBe('succeeded');
  });

  it('refuses exec and the test gate with SANDBOX_UNAVAILABLE when no sandbox could be had', async () => {
    const { status, steps } = await runWith(new RefusingSandbox('bwrap not found'));
    expect(observation(steps, 'exec')).toMatch(/^refused \(SANDBOX_UNAVAILABLE\): .*bwrap not found/);
    expect(observation(steps, 'tests')).toContain('SANDBOX_UNAVAILABLE');
    expect(status).not.toBe('succeeded');
  });

  it('warns in every observation when commands run unsandboxed (and the sandbox-aware test fails)', async () => {
    const { status, steps } = await runWith(new UnsandboxedRunner('MAESTRO_SANDBOX=none'));
    expect(observation(steps, 'exec')).toContain('WITHOUT a sandbox (MAESTRO_SANDBOX=none)');
    expect(observation(steps, 'tests')).toContain('WITHOUT a sandbox (MAESTRO_SANDBOX=none)');
    expect(status).not.toBe('succeeded');
  });
});
