import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScriptedProvider, parseScript, type ChatMessage } from '@maestro/llm';
import type { ChatModel } from './chat-model.js';
import { createDefaultToolRegistry } from './default-tool-registry.js';
import { runAgentLoop, type AgentStep } from './agent-loop.js';

const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

/** A ChatModel over the scripted provider, remembering every conversation it was shown. */
function scriptedModel(script: unknown): ChatModel & { seen: ChatMessage[][] } {
  const provider = new ScriptedProvider(parseScript(script), 'in-test script');
  const seen: ChatMessage[][] = [];
  return {
    seen,
    async complete({ messages, tools }) {
      seen.push(messages);
      const result = await provider.complete({ model: 'scripted', intent: 'code', messages, tools });
      return { message: result.message, usage: result.usage, scripted: result.scripted, provider: provider.name, model: 'scripted' };
    },
  };
}

const write = (path: string, content: string) => ({ name: 'fs.write', arguments: { path, content } });

describe('runAgentLoop', () => {
  let repo: string;
  beforeEach(() => {
    repo = realpathSync(mkdtempSync(join(tmpdir(), 'maestro-loop-')));
    git(repo, 'init', '-q', '-b', 'main');
    git(repo, 'config', 'user.email', 'test@example.com');
    git(repo, 'config', 'user.name', 'Test');
    writeFileSync(
      join(repo, 'sum.test.js'),
      [
        "const { test } = require('node:test');",
        "const assert = require('node:assert');",
        "const { sum } = require('./sum.js');",
        "test('sum adds two numbers', () => assert.strictEqual(sum(2, 3), 5));",
        '',
      ].join('\n'),
    );
    writeFileSync(join(repo, 'README.md'), '# demo\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'tests first');
  });
  afterEach(() => rmSync(repo, { recursive: true, force: true }));

  it('feeds failing tests back until the model fixes the code, then succeeds with evidence and a commit', async () => {
    const model = scriptedModel({
      rules: [
        {
          name: 'code',
          when: { intent: 'code' },
          turns: [
            { content: 'Writing sum.js.', toolCalls: [write('sum.js', 'exports.sum = (a, b) => a - b;\n')] },
            { content: 'Implemented sum.' },
            {
              content: 'The test shows I subtracted; fixing.',
              toolCalls: [write('sum.js', 'exports.sum = (a, b) => a + b;\n'), { name: 'git.commit', arguments: { message: 'Add sum(a, b)' } }],
            },
            { content: 'Fixed: sum now adds its arguments.' },
          ],
        },
      ],
    });
    const steps: AgentStep[] = [];
    const concerns: string[] = [];
    const verdict = await runAgentLoop({
      model,
      tools: createDefaultToolRegistry(),
      workspace: repo,
      task: 'Add sum(a, b) in sum.js so that sum.test.js passes.',
      testCommand: ['node', '--test', 'sum.test.js'],
      writeGuard: { acquire: async (c) => void concerns.push(...c) },
      onStep: (step) => void steps.push(step),
    });

    const head = git(repo, 'rev-parse', 'HEAD');
    expect(verdict).toMatchObject({
      status: 'succeeded',
      summary: 'Fixed: sum now adds its arguments.',
      steps: 4,
      filesChanged: ['sum.js'],
      commitSha: head,
      tests: { command: ['node', '--test', 'sum.test.js'], exitCode: 0, passed: true },
    });
    expect(verdict.reason).toBeUndefined();
    expect(verdict.tests?.outputTail).toMatch(/pass 1/);
    expect(verdict.usage.inputTokens).toBeGreaterThan(0);
    expect(verdict.usage.outputTokens).toBeGreaterThan(0);
    expect(readFileSync(join(repo, 'sum.js'), 'utf8')).toContain('a + b');
    expect(git(repo, 'log', '-1', '--format=%s')).toBe('Add sum(a, b)');

    // The first "done" ran the tests, which failed; the failure went back to the model.
    const feedback = model.seen[2]?.at(-1);
    expect(feedback?.role).toBe('user');
    expect(feedback?.content).toContain('The tests failed');
    expect(feedback?.content).toMatch(/-1|Expected values to be strictly equal/);

    expect(concerns).toEqual([`file:${join(repo, 'sum.js')}`, `file:${join(repo, 'sum.js')}`, `git-index:${repo}`]);
    expect(steps.map((s) => `${s.kind}${s.tool ? `:${s.tool}` : ''}:${s.ok}`)).toEqual([
      'model:true',
      'tool:fs.write:true',
      'model:true',
      'tool:tests:false',
      'model:true',
      'tool:fs.write:true',
      'tool:git.commit:true',
      'model:true',
      'tool:tests:true',
      'verdict:true',
    ]);
    expect(steps.map((s) => s.index)).toEqual(steps.map((_, i) => i));
    expect(steps[0]?.scripted).toBe(true);
    expect(steps[0]?.summary).toMatch(/^\[scripted\] scripted\/scripted: /);
  });

  it('ends stuck when the model repeats the same call with the same result', async () => {
    const read = { name: 'fs.read', arguments: { path: 'README.md' } };
    const model = scriptedModel({ rules: [{ name: 'loop', turns: Array.from({ length: 10 }, () => ({ toolCalls: [read] })) }] });
    const verdict = await runAgentLoop({ model, tools: createDefaultToolRegistry(), workspace: repo, task: 'anything', testCommand: ['node', '--test', 'sum.test.js'] });
    expect(verdict.status).toBe('stuck');
    expect(verdict.steps).toBe(3);
    expect(verdict.reason).toBe('fs.read({"path":"README.md"}) returned the same result 3 times');
    expect(verdict.commitSha).toBeUndefined();
    expect(verdict.filesChanged).toEqual([]);
  });

  it('ends stuck when the model keeps declaring done while the same tests fail', async () => {
    const model = scriptedModel({
      rules: [{ name: 'lazy', turns: [{ toolCalls: [write('sum.js', 'exports.sum = () => 0;\n')] }, ...Array.from({ length: 5 }, () => ({ content: 'Done.' }))] }],
    });
    const verdict = await runAgentLoop({ model, tools: createDefaultToolRegistry(), workspace: repo, task: 'anything', testCommand: ['node', '--test', 'sum.test.js'] });
    expect(verdict.status).toBe('stuck');
    expect(verdict.reason).toBe('declared done 3 times with the same failing test output');
    expect(verdict.tests).toMatchObject({ passed: false, exitCode: 1 });
    expect(verdict.filesChanged).toEqual(['sum.js']);
  });

  it('stops at the step budget', async () => {
    const model = scriptedModel({
      rules: [{ name: 'busy', turns: Array.from({ length: 10 }, (_, i) => ({ toolCalls: [write(`notes-${i}.md`, `note ${i}`)] })) }],
    });
    const verdict = await runAgentLoop({
      model,
      tools: createDefaultToolRegistry(),
      workspace: repo,
      task: 'anything',
      testCommand: ['node', '--test', 'sum.test.js'],
      budget: { maxSteps: 2 },
    });
    expect(verdict.status).toBe('budget_exhausted');
    expect(verdict.steps).toBe(2);
    expect(verdict.reason).toBe('used all 2 model turns without passing tests');
    expect(verdict.filesChanged).toEqual(['notes-0.md', 'notes-1.md']);
  });

  it('stops at the token budget', async () => {
    const model = scriptedModel({ rules: [{ name: 'busy', turns: Array.from({ length: 10 }, (_, i) => ({ toolCalls: [write(`n${i}.md`, 'x')] })) }] });
    const verdict = await runAgentLoop({ model, tools: createDefaultToolRegistry(), workspace: repo, task: 'anything', testCommand: [], budget: { maxTokens: 10 } });
    expect(verdict.status).toBe('budget_exhausted');
    expect(verdict.steps).toBe(1);
    expect(verdict.reason).toMatch(/^used \d+ of 10 tokens$/);
  });

  it('fails with the reason when the model call fails', async () => {
    const model = scriptedModel({ rules: [{ name: 'short', turns: [{ toolCalls: [write('a.md', 'a')] }] }] });
    const verdict = await runAgentLoop({ model, tools: createDefaultToolRegistry(), workspace: repo, task: 'anything', testCommand: ['node', '--test', 'sum.test.js'] });
    expect(verdict.status).toBe('failed');
    expect(verdict.reason).toContain('model call failed: script exhausted for rule short at turn 1');
    expect(verdict.steps).toBe(1);
  });
});
