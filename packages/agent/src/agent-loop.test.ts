import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FinishReasons } from '@maestro/llm';
import type { ChatModel, ChatModelRequest } from './chat-model.js';
import { createDefaultToolRegistry } from './default-tool-registry.js';
import { runAgentLoop, type AgentStep, type RunAgentLoopOptions } from './agent-loop.js';
import { scriptedChatModel } from './scripted-chat-model.js';
import { MALFORMED_TOOL_CALL_PROBLEM } from './loop/text-reply.js';
import { failingTestNames } from './test-failures.js';

const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

/** `model`, except that the replies to the calls `malformed` picks (numbered from 0) come back as Gemini's malformed function calls. */
function malformedOn<M extends ChatModel>(model: M, malformed: (call: number) => boolean): M {
  let calls = 0;
  return {
    ...model,
    async complete(request: ChatModelRequest) {
      const reply = await model.complete(request);
      return malformed(calls++) ? { ...reply, finishReason: FinishReasons.malformedToolCall } : reply;
    },
  };
}

const write = (path: string, content: string) => ({ name: 'fs.write', arguments: { path, content } });

/** Runs the loop in `workspace` (a test's repository) with the default tools; `options` name the rest. */
function loopIn(workspace: string, options: Omit<RunAgentLoopOptions, 'tools' | 'workspace'>): ReturnType<typeof runAgentLoop> {
  return runAgentLoop({ tools: createDefaultToolRegistry(), workspace, ...options });
}

/** The test command of the test repository's sum.test.js. */
const SUM_TESTS = ['node', '--test', 'sum.test.js'];

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
    const model = scriptedChatModel({
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
    const verdict = await loopIn(repo, {
      model,
      task: 'Add sum(a, b) in sum.js so that sum.test.js passes.',
      testCommand: SUM_TESTS,
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
    // It recovered on its own retry: the first failed run is the evidence.
    expect(verdict.recoveredFrom).toEqual({ failingTests: ['sum adds two numbers'], outputTail: expect.stringMatching(/fail 1/), exitCode: 1 });
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

  it('records each model call (who answered, tokens, cost, duration) and each tool call (arguments, whole observation) on its step', async () => {
    let now = 1_000_000;
    const scripted = scriptedChatModel({
      rules: [{ name: 'code', when: { intent: 'code' }, turns: [{ content: 'Writing.', toolCalls: [write('sum.js', 'exports.sum = (a, b) => a + b;\n')] }, { content: 'Done.' }] }],
    });
    // A priced model whose call takes 250 ms on the loop's clock.
    const model: ChatModel = {
      async complete(request) {
        const reply = await scripted.complete(request);
        now += 250;
        return { ...reply, scripted: false, provider: 'deepseek', model: 'deepseek-chat', usage: { ...reply.usage, cachedInputTokens: 3 }, cost: { usd: 0.002, priced: true } };
      },
    };
    const steps: AgentStep[] = [];
    const verdict = await loopIn(repo, {
      model,
      task: 'Add sum(a, b) in sum.js so that sum.test.js passes.',
      testCommand: SUM_TESTS,
      clock: { now: () => now },
      onStep: (step) => void steps.push(step),
    });
    expect(verdict.status).toBe('succeeded');
    const [first, write1, second, tests] = steps;
    expect(first).toMatchObject({
      kind: 'model',
      durationMs: 250,
      modelCall: { provider: 'deepseek', model: 'deepseek-chat', scripted: false, cachedInputTokens: 3, reasoningTokens: 0, usd: 0.002, priced: true },
    });
    expect(first?.modelCall?.inputTokens).toBeGreaterThan(0);
    expect(second?.modelCall?.usd).toBe(0.002);
    expect(write1).toMatchObject({ kind: 'tool', tool: 'fs.write', durationMs: 0 });
    expect(JSON.parse(write1?.arguments ?? '')).toEqual({ path: 'sum.js', content: 'exports.sum = (a, b) => a + b;\n' });
    expect(write1?.observation).toMatch(/sum\.js/);
    expect(tests).toMatchObject({ kind: 'tool', tool: 'tests', arguments: JSON.stringify({ argv: ['node', '--test', 'sum.test.js'] }) });
    expect(tests?.observation).toMatch(/pass 1/);
    expect(steps.find((s) => s.kind === 'verdict')).not.toHaveProperty('modelCall');
  });

  it('says a scripted reply was scripted, with provider scripted and no price', async () => {
    const model = scriptedChatModel({ rules: [{ name: 'code', when: { intent: 'code' }, turns: [{ content: 'Nothing to do.' }] }] });
    const steps: AgentStep[] = [];
    await loopIn(repo, { model, task: 't', testCommand: [], onStep: (step) => void steps.push(step) });
    expect(steps[0]?.modelCall).toMatchObject({ provider: 'scripted', model: 'scripted', scripted: true, usd: 0, priced: false });
  });

  it('ends stuck when the model repeats the same call with the same result', async () => {
    const read = { name: 'fs.read', arguments: { path: 'README.md' } };
    const model = scriptedChatModel({ rules: [{ name: 'loop', turns: Array.from({ length: 10 }, () => ({ toolCalls: [read] })) }] });
    const verdict = await loopIn(repo, { model, task: 'anything', testCommand: SUM_TESTS });
    expect(verdict.status).toBe('stuck');
    expect(verdict.steps).toBe(3);
    expect(verdict.reason).toBe('fs.read({"path":"README.md"}) returned the same result 3 times');
    expect(verdict.commitSha).toBeUndefined();
    expect(verdict.filesChanged).toEqual([]);
  });

  it('ends stuck when the model keeps declaring done while the same tests fail', async () => {
    const model = scriptedChatModel({
      rules: [{ name: 'lazy', turns: [{ toolCalls: [write('sum.js', 'exports.sum = () => 0;\n')] }, ...Array.from({ length: 5 }, () => ({ content: 'Done.' }))] }],
    });
    const verdict = await loopIn(repo, { model, task: 'anything', testCommand: SUM_TESTS });
    expect(verdict.status).toBe('stuck');
    expect(verdict.reason).toBe('declared done 2 times with the same failing test output');
    expect(verdict.tests).toMatchObject({ passed: false, exitCode: 1 });
    // A run that never got past its failure recovered from nothing.
    expect(verdict.recoveredFrom).toBeUndefined();
    expect(verdict.filesChanged).toEqual(['sum.js']);
  });

  it('applies SEARCH/REPLACE edits from a text reply, feeds back the summary, and succeeds on the tests', async () => {
    writeFileSync(join(repo, 'sum.js'), "exports.sum = (a, b) => {\n  return a - b;\n};\n");
    git(repo, 'add', 'sum.js');
    git(repo, 'commit', '-q', '-m', 'buggy sum');
    const model = scriptedChatModel({
      rules: [
        {
          name: 'text-editor',
          turns: [
            { content: ['The sign is wrong.', '', 'sum.js', '```js', '<<<<<<< SEARCH', '  return a - b;', '=======', '  return a + b;', '>>>>>>> REPLACE', '```'].join('\n') },
            { content: 'Fixed the sign in sum.js.' },
          ],
        },
      ],
    });
    const steps: AgentStep[] = [];
    const concerns: string[] = [];
    const verdict = await loopIn(repo, {
      model,
      task: 'Fix sum.',
      testCommand: SUM_TESTS,
      writeGuard: { acquire: async (c) => void concerns.push(...c) },
      onStep: (step) => void steps.push(step),
    });
    expect(verdict).toMatchObject({ status: 'succeeded', summary: 'Fixed the sign in sum.js.', steps: 2, filesChanged: ['sum.js'], tests: { passed: true, exitCode: 0 } });
    expect(readFileSync(join(repo, 'sum.js'), 'utf8')).toBe('exports.sum = (a, b) => {\n  return a + b;\n};\n');
    expect(model.seen[1]?.at(-1)).toEqual({ role: 'user', content: 'Applied 1 edit: modified sum.js.' });
    expect(concerns).toEqual([`file:${join(repo, 'sum.js')}`]);
    expect(steps.map((s) => `${s.kind}${s.tool ? `:${s.tool}` : ''}:${s.ok}`)).toEqual(['model:true', 'tool:edits:true', 'model:true', 'tool:tests:true', 'verdict:true']);
  });

  it('sends the parser\'s message back for a malformed edit block, and succeeds within budget once the model fixes it', async () => {
    const create = (divider: boolean) =>
      ['Creating sum.js.', 'sum.js', '<<<<<<< SEARCH', ...(divider ? ['======='] : []), 'exports.sum = (a, b) => a + b;', '>>>>>>> REPLACE'].join('\n');
    const model = scriptedChatModel({ rules: [{ name: 'sloppy', turns: [{ content: create(false) }, { content: create(true) }, { content: 'Done.' }] }] });
    const steps: AgentStep[] = [];
    const verdict = await loopIn(repo, {
      model,
      task: 'Add sum.',
      testCommand: SUM_TESTS,
      budget: { maxSteps: 3 },
      onStep: (step) => void steps.push(step),
    });
    const feedback = model.seen[1]?.at(-1);
    expect(feedback?.role).toBe('user');
    expect(feedback?.content).toMatch(/^Could not read the edits in your reply: SEARCH\/REPLACE block 1 \(line 3 of your reply\): .*=======/);
    expect(feedback?.content).toMatch(/No edits from this reply were applied; send the corrected edits again\.$/);
    expect(model.seen[2]?.at(-1)?.content).toBe('Applied 1 edit: created sum.js.');
    expect(verdict).toMatchObject({ status: 'succeeded', steps: 3, filesChanged: ['sum.js'], tests: { passed: true } });
    expect(steps.filter((s) => s.tool === 'edits').map((s) => s.ok)).toEqual([false, true]);
  });

  it('runs JSON tool calls written in the text, repairing a trailing comma and resolving provider names', async () => {
    const reply = [
      'I will write the function and commit it.',
      '```json',
      '[',
      '  {"tool": "fs.write", "arguments": {"path": "sum.js", "content": "exports.sum = (a, b) => a + b;\\n",},},',
      '  {"name": "git_commit", "arguments": {"message": "Add sum(a, b)"}}',
      ']',
      '```',
    ].join('\n');
    const model = scriptedChatModel({ rules: [{ name: 'texter', turns: [{ content: reply }, { content: 'Added and committed sum.' }] }] });
    const steps: AgentStep[] = [];
    const verdict = await loopIn(repo, {
      model,
      task: 'Add sum.',
      testCommand: SUM_TESTS,
      onStep: (step) => void steps.push(step),
    });
    expect(verdict).toMatchObject({ status: 'succeeded', steps: 2, filesChanged: ['sum.js'], commitSha: git(repo, 'rev-parse', 'HEAD'), tests: { passed: true } });
    // Passed at the first run: nothing was recovered from.
    expect(verdict.recoveredFrom).toBeUndefined();
    expect(readFileSync(join(repo, 'sum.js'), 'utf8')).toBe('exports.sum = (a, b) => a + b;\n');
    const results = model.seen[1]?.at(-1);
    expect(results?.role).toBe('user');
    expect(results?.content).toMatch(/^fs\.write returned:\ncreated sum\.js \(31 bytes\)\n\[note: your tool call was not valid JSON; it was repaired and read as fs\.write\(/);
    expect(results?.content).toMatch(/\n\ngit_commit returned:\ncommitted [0-9a-f]{40}: Add sum\(a, b\) \(1 file: sum\.js\)/);
    expect(steps.map((s) => `${s.kind}${s.tool ? `:${s.tool}` : ''}:${s.ok}`)).toEqual([
      'model:true',
      'tool:fs.write:true',
      'tool:git_commit:true',
      'model:true',
      'tool:tests:true',
      'verdict:true',
    ]);
  });

  it('tells the model when a JSON tool call in its text cannot be read, and goes on', async () => {
    const model = scriptedChatModel({
      rules: [
        {
          name: 'broken',
          turns: [
            { content: '```json\n{"tool": "fs.write", "arguments": {"path" ]}\n```' },
            { content: '{"tool": "fs.write", "arguments": {"path": "sum.js", "content": "exports.sum = (a, b) => a + b;"}}' },
            { content: 'Done.' },
          ],
        },
      ],
    });
    const verdict = await loopIn(repo, { model, task: 'Add sum.', testCommand: SUM_TESTS });
    expect(model.seen[1]?.at(-1)?.content).toMatch(/^Could not read the tool call in your reply \(line 2\): it is not valid JSON even after repair: Colon expected/);
    expect(model.seen[2]?.at(-1)?.content).toBe('fs.write returned:\ncreated sum.js (30 bytes)');
    expect(verdict).toMatchObject({ status: 'succeeded', steps: 3 });
  });

  it("sends a provider's malformed tool call back to the model as a parse error instead of ending the run, and succeeds once the call is made again", async () => {
    const model = malformedOn(
      scriptedChatModel({
        rules: [
          {
            name: 'gemini',
            turns: [
              // What the Gemini adapter returns for MALFORMED_FUNCTION_CALL: Gemini's finish message as the content, no tool calls.
              { content: 'Malformed function call: print(default_api.fs_write(path="sum.js", content=exports.sum = (a, b) => a + b;))' },
              { toolCalls: [write('sum.js', 'exports.sum = (a, b) => a + b;\n')] },
              { content: 'Done.' },
            ],
          },
        ],
      }),
      (call) => call === 0,
    );
    const steps: AgentStep[] = [];
    const verdict = await loopIn(repo, {
      model,
      task: 'Add sum.',
      testCommand: SUM_TESTS,
      onStep: (step) => void steps.push(step),
    });
    expect(model.seen[1]?.at(-1)).toEqual({ role: 'user', content: MALFORMED_TOOL_CALL_PROBLEM });
    expect(MALFORMED_TOOL_CALL_PROBLEM).toMatch(/^Could not read the tool call in your reply: the model provider could not parse it \(finish reason malformed_tool_call\)\.\nNothing from this reply was run or applied\./);
    expect(verdict).toMatchObject({ status: 'succeeded', steps: 3, filesChanged: ['sum.js'], tests: { passed: true } });
    // The malformed reply ran no tests: it was answered like an unreadable text tool call.
    expect(steps.map((s) => `${s.kind}${s.tool ? `:${s.tool}` : ''}:${s.ok}`)).toEqual([
      'model:true',
      'tool:tool_call:false',
      'model:true',
      'tool:fs.write:true',
      'model:true',
      'tool:tests:true',
      'verdict:true',
    ]);
    expect(steps[0]?.summary).toMatch(/\[malformed tool call\]$/);
  });

  it('runs none of the calls a reply marked malformed carries, and keeps them out of the next request', async () => {
    const model = malformedOn(
      scriptedChatModel({ rules: [{ name: 'gemini', turns: [{ content: 'Writing.', toolCalls: [write('x.md', 'x')] }, { content: 'Nothing to change.' }] }] }),
      (call) => call === 0,
    );
    const verdict = await loopIn(repo, { model, task: 'anything', testCommand: [] });
    expect(verdict).toMatchObject({ status: 'succeeded', steps: 2, filesChanged: [] });
    expect(existsSync(join(repo, 'x.md'))).toBe(false);
    expect(model.seen[1]?.slice(-2)).toEqual([
      { role: 'assistant', content: 'Writing.' },
      { role: 'user', content: MALFORMED_TOOL_CALL_PROBLEM },
    ]);
  });

  it('ends stuck, never succeeded, when the model keeps making the same malformed tool call', async () => {
    const model = malformedOn(
      scriptedChatModel({ rules: [{ name: 'gemini', turns: Array.from({ length: 10 }, () => ({ content: 'Malformed function call: print(default_api.fs_write(' })) }] }),
      () => true,
    );
    const verdict = await loopIn(repo, { model, task: 'Add sum.', testCommand: [] });
    expect(verdict).toMatchObject({ status: 'stuck', steps: 3, reason: 'an unreadable reply returned the same result 3 times' });
    expect(verdict.tests).toBeUndefined();
  });

  it('stops at the step budget when every reply is a different malformed tool call', async () => {
    const model = malformedOn(
      scriptedChatModel({ rules: [{ name: 'gemini', turns: Array.from({ length: 10 }, (_, i) => ({ content: `Malformed function call: print(default_api.fs_write(path="n${i}.md"` })) }] }),
      () => true,
    );
    const verdict = await loopIn(repo, { model, task: 'Add sum.', testCommand: [], budget: { maxSteps: 4 } });
    expect(verdict).toMatchObject({ status: 'budget_exhausted', steps: 4, reason: 'used all 4 model turns without passing tests' });
    expect(model.seen).toHaveLength(4);
  });

  it('ends stuck when the model alternates between two actions with the same results', async () => {
    const readme = { name: 'fs.read', arguments: { path: 'README.md' } };
    const tests = { name: 'fs.read', arguments: { path: 'sum.test.js' } };
    const model = scriptedChatModel({ rules: [{ name: 'pingpong', turns: Array.from({ length: 12 }, (_, i) => ({ toolCalls: [i % 2 === 0 ? readme : tests] })) }] });
    const verdict = await loopIn(repo, { model, task: 'anything', testCommand: SUM_TESTS });
    expect(verdict.status).toBe('stuck');
    expect(verdict.steps).toBe(6);
    expect(verdict.reason).toBe('alternated between fs.read({"path":"README.md"}) and fs.read({"path":"sum.test.js"}), with the same results, 3 times');
  });

  it('does not call a model stuck for coming back to the same read after other work', async () => {
    const readme = { toolCalls: [{ name: 'fs.read', arguments: { path: 'README.md' } }] };
    const model = scriptedChatModel({
      rules: [
        {
          name: 'wanderer',
          turns: [
            readme,
            { toolCalls: [write('notes-1.md', 'one')] },
            readme,
            { toolCalls: [write('notes-2.md', 'two')] },
            readme,
            { toolCalls: [write('sum.js', 'exports.sum = (a, b) => a + b;\n')] },
            { content: 'Done.' },
          ],
        },
      ],
    });
    const verdict = await loopIn(repo, { model, task: 'anything', testCommand: SUM_TESTS });
    expect(verdict).toMatchObject({ status: 'succeeded', steps: 7, filesChanged: ['notes-1.md', 'notes-2.md', 'sum.js'] });
  });

  it('stops at the step budget', async () => {
    const model = scriptedChatModel({
      rules: [{ name: 'busy', turns: Array.from({ length: 10 }, (_, i) => ({ toolCalls: [write(`notes-${i}.md`, `note ${i}`)] })) }],
    });
    const verdict = await loopIn(repo, {
      model,
      task: 'anything',
      testCommand: SUM_TESTS,
      budget: { maxSteps: 2 },
    });
    expect(verdict.status).toBe('budget_exhausted');
    expect(verdict.steps).toBe(2);
    expect(verdict.reason).toBe('used all 2 model turns without passing tests');
    expect(verdict.filesChanged).toEqual(['notes-0.md', 'notes-1.md']);
  });

  it('stops at the token budget', async () => {
    const model = scriptedChatModel({ rules: [{ name: 'busy', turns: Array.from({ length: 10 }, (_, i) => ({ toolCalls: [write(`n${i}.md`, 'x')] })) }] });
    const verdict = await loopIn(repo, { model, task: 'anything', testCommand: [], budget: { maxTokens: 10 } });
    expect(verdict.status).toBe('budget_exhausted');
    expect(verdict.steps).toBe(1);
    expect(verdict.reason).toMatch(/^used \d+ of 10 tokens$/);
  });

  it('cuts every tool call of a turn to the wall time left when it starts, and skips the calls after the budget ran out', async () => {
    // Margins wide enough for a busy machine: the first nap ends well inside the budget, the
    // second cannot.
    const nap = { name: 'exec', arguments: { argv: ['node', '-e', 'setTimeout(() => {}, 2500)'] } };
    const model = scriptedChatModel({ rules: [{ name: 'sleepy', turns: [{ content: 'Waiting four times.', toolCalls: [nap, nap, nap, nap] }] }] });
    const steps: AgentStep[] = [];
    const verdict = await loopIn(repo, {
      model,
      task: 'anything',
      testCommand: SUM_TESTS,
      budget: { maxWallMs: 4_000 },
      onStep: (step) => void steps.push(step),
    });
    expect(verdict).toMatchObject({ status: 'budget_exhausted', steps: 1, reason: 'used the whole wall-clock budget of 4000 ms' });
    const calls = steps.filter((step) => step.tool === 'exec');
    expect(calls).toHaveLength(4);
    // The first nap fits; the second gets only what is left (or nothing), the others never start.
    expect(calls[0]?.ok).toBe(true);
    expect(calls[1]?.ok).toBe(false);
    expect(calls[1]?.summary).toMatch(/→ (timed out after \d+ ms; the process group was killed|exec was not run: the wall-clock budget of 4000 ms ran out\.)/);
    expect(calls.slice(2).map((step) => step.summary.replace(/^.*→ /, ''))).toEqual([
      'exec was not run: the wall-clock budget of 4000 ms ran out.',
      'exec was not run: the wall-clock budget of 4000 ms ran out.',
    ]);
  });

  it('hands the model call a signal that aborts at the wall-clock budget, and stops waiting for a model that ignores it', async () => {
    const seen: ChatModelRequest[] = [];
    const listening: ChatModel = {
      complete: (request) => {
        seen.push(request);
        return new Promise((_, reject) => request.signal?.addEventListener('abort', () => reject(new Error('aborted by signal')), { once: true }));
      },
    };
    // A budget well above the loop's set-up time, so the model call is what the budget cuts.
    const cut = await loopIn(repo, { model: listening, task: 'anything', testCommand: [], budget: { maxWallMs: 1500 } });
    expect(cut).toMatchObject({ status: 'budget_exhausted', steps: 0, reason: 'used the whole wall-clock budget of 1500 ms (the model call was cut off)' });
    expect(seen[0]?.signal?.aborted).toBe(true);

    const deaf: ChatModel = { complete: () => new Promise(() => undefined) };
    const ignored = await loopIn(repo, { model: deaf, task: 'anything', testCommand: [], budget: { maxWallMs: 1500 } });
    expect(ignored).toMatchObject({ status: 'budget_exhausted', reason: 'used the whole wall-clock budget of 1500 ms (the model call was cut off)' });

    // Shut down while the model call is in flight (not on a timer: the loop's set-up may take
    // longer than any fixed delay on a busy machine).
    const shutdown = new AbortController();
    const interrupted: ChatModel = {
      complete: (request) => {
        const pending = listening.complete(request);
        setImmediate(() => shutdown.abort(new Error('executor shutting down')));
        return pending;
      },
    };
    const cancelled = await loopIn(repo, { model: interrupted, task: 'anything', testCommand: [], signal: shutdown.signal });
    expect(cancelled).toMatchObject({ status: 'failed', reason: 'the work was cancelled' });
    expect(seen[1]?.signal?.aborted).toBe(true);
  });

  it('turns a test command spawn refuses (a NUL byte) into failed tests instead of throwing', async () => {
    const model = scriptedChatModel({ rules: [{ name: 'done', turns: [{ content: 'Done.' }] }] });
    const verdict = await loopIn(repo, { model, task: 'anything', testCommand: ['node', 'bad\u0000arg'], budget: { maxSteps: 1 } });
    expect(verdict).toMatchObject({ status: 'budget_exhausted', tests: { passed: false, exitCode: null } });
    expect(verdict.tests?.outputTail).toMatch(/^could not start the test command: .*null bytes/);
  });

  it('does not apply whole-file blocks unless configured, and never redirects one by basename', async () => {
    mkdirSync(join(repo, 'src'));
    const original = 'export const add = (a, b) => a + b;\nexport const sub = (a, b) => a - b;\n';
    writeFileSync(join(repo, 'src', 'calc.js'), original);
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'calc');
    // A summary that names the file and shows a snippet: prose, not a new src/calc.js.
    const summary = 'Done. The key function in `src/calc.js` is now:\n\n```js\nexport const add = (a, b) => a + b;\n```\n';
    const first = await loopIn(repo, { model: scriptedChatModel({ rules: [{ name: 'r', turns: [{ content: summary }] }] }), task: 'anything', testCommand: [] });
    expect(first).toMatchObject({ status: 'succeeded', steps: 1, filesChanged: [] });
    expect(readFileSync(join(repo, 'src', 'calc.js'), 'utf8')).toBe(original);

    // A named whole file for lib/calc.js is not applied by default either...
    const named = 'lib/calc.js\n```js\nexport const mul = (a, b) => a * b;\n```\n';
    const second = await loopIn(repo, { model: scriptedChatModel({ rules: [{ name: 'r', turns: [{ content: named }] }] }), task: 'anything', testCommand: [] });
    expect(second).toMatchObject({ status: 'succeeded', filesChanged: [] });
    expect(existsSync(join(repo, 'lib'))).toBe(false);

    // ...and when whole files are on, it creates lib/calc.js instead of overwriting src/calc.js by basename.
    const model = scriptedChatModel({ rules: [{ name: 'r', turns: [{ content: named }, { content: 'Added lib/calc.js.' }] }] });
    const third = await loopIn(repo, {
      model,
      task: 'anything',
      testCommand: [],
      textEditFormats: ['search-replace', 'unified-diff', 'whole-file'],
    });
    expect(third).toMatchObject({ status: 'succeeded', filesChanged: ['lib/calc.js'] });
    expect(model.seen[1]?.at(-1)?.content).toBe('Applied 1 edit: created lib/calc.js.');
    expect(readFileSync(join(repo, 'src', 'calc.js'), 'utf8')).toBe(original);
    expect(model.seen[0]?.[0]?.content).toContain('with the whole new file in a fenced block after a line with its path');

    // By default a model that writes a whole file is told why nothing changed when the tests fail.
    const wholeSum = scriptedChatModel({ rules: [{ name: 'r', turns: [{ content: 'sum.js\n```js\nexports.sum = (a, b) => a + b;\n```\n' }, { content: 'Done.' }] }] });
    await loopIn(repo, { model: wholeSum, task: 'anything', testCommand: SUM_TESTS, budget: { maxSteps: 2 } });
    expect(existsSync(join(repo, 'sum.js'))).toBe(false);
    expect(wholeSum.seen[1]?.at(-1)?.content).toMatch(/The tests failed[\s\S]*Note: code blocks with a file name were not applied; change files with SEARCH\/REPLACE blocks, a unified diff, or the tools\.$/);
    expect(wholeSum.seen[0]?.[0]?.content).not.toContain('whole new file');
  });

  it('creates and deletes files from diffs whose headers carry a/ and b/ without a diff --git line', async () => {
    const diff = ['```diff', '--- /dev/null', '+++ b/sum.js', '@@ -0,0 +1 @@', '+exports.sum = (a, b) => a + b;', '--- a/README.md', '+++ /dev/null', '@@ -1 +0,0 @@', '-# demo', '```'].join('\n');
    const model = scriptedChatModel({ rules: [{ name: 'r', turns: [{ content: diff }, { content: 'Done.' }] }] });
    const verdict = await loopIn(repo, { model, task: 'anything', testCommand: SUM_TESTS });
    expect(model.seen[1]?.at(-1)?.content).toBe('Applied 2 edits: created sum.js, deleted README.md.');
    expect(verdict).toMatchObject({ status: 'succeeded', filesChanged: ['README.md', 'sum.js'] });
    expect(existsSync(join(repo, 'b'))).toBe(false);
    expect(existsSync(join(repo, 'README.md'))).toBe(false);
  });

  it('fails with the reason when the model call fails', async () => {
    const model = scriptedChatModel({ rules: [{ name: 'short', turns: [{ toolCalls: [write('a.md', 'a')] }] }] });
    const verdict = await loopIn(repo, { model, task: 'anything', testCommand: SUM_TESTS });
    expect(verdict.status).toBe('failed');
    expect(verdict.reason).toContain('model call failed: script exhausted for rule short at turn 1');
    expect(verdict.steps).toBe(1);
  });
});

describe('runAgentLoop with baseline failures', () => {
  let repo: string;
  // TAP, as node --test prints when its output is not a terminal; `legacy` already fails on HEAD.
  const testCommand = ['node', '--test', '--test-reporter=tap', 'sum.test.js'];
  beforeEach(() => {
    repo = realpathSync(mkdtempSync(join(tmpdir(), 'maestro-baseline-')));
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
        "test('legacy', () => assert.fail('broken before anyone started'));",
        '',
      ].join('\n'),
    );
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'tests first');
  });
  afterEach(() => rmSync(repo, { recursive: true, force: true }));

  const doneAfterWriting = (content: string) =>
    scriptedChatModel({ rules: [{ name: 'r', turns: [{ toolCalls: [write('sum.js', content)] }, { content: 'Implemented sum.' }, { content: 'Still done.' }] }] });

  it('counts a run that fails only in baseline tests as passed, and says so', async () => {
    const steps: AgentStep[] = [];
    const verdict = await loopIn(repo, {
      model: doneAfterWriting('exports.sum = (a, b) => a + b;\n'),
      task: 'Add sum.',
      testCommand,
      baselineFailures: ['legacy', 'something else that used to fail'],
      onStep: (step) => void steps.push(step),
    });
    expect(verdict).toMatchObject({
      status: 'succeeded',
      summary: 'Implemented sum. (tests passed except baseline failures: legacy)',
      steps: 2,
      tests: { command: testCommand, exitCode: 1, passed: true, exceptBaseline: ['legacy'] },
    });
    expect(steps.find((s) => s.tool === 'tests')).toMatchObject({ ok: true, summary: expect.stringContaining('passed except baseline failures: legacy') });
    // Excused baseline failures are no failure the agent recovered from.
    expect(verdict.recoveredFrom).toBeUndefined();
  });

  it('fails as before when a test outside the baseline fails too', async () => {
    const model = doneAfterWriting('exports.sum = (a, b) => a - b;\n');
    const verdict = await loopIn(repo, {
      model,
      task: 'Add sum.',
      testCommand,
      baselineFailures: ['legacy'],
      budget: { maxSteps: 2 },
    });
    expect(verdict.status).toBe('budget_exhausted');
    expect(verdict.tests).toMatchObject({ passed: false, exitCode: 1 });
    expect(verdict.tests?.exceptBaseline).toBeUndefined();
    expect(model.seen[2]).toBeUndefined();
    expect(model.seen[1]).toBeDefined();
  });

  it('fails as before without a baseline, and when the failures cannot be named', async () => {
    const without = await loopIn(repo, {
      model: doneAfterWriting('exports.sum = (a, b) => a + b;\n'),
      task: 'Add sum.',
      testCommand,
      budget: { maxSteps: 2 },
    });
    expect(without.status).toBe('budget_exhausted');
    expect(without.tests).toMatchObject({ passed: false });

    // A command that fails without naming a test: the baseline cannot excuse it.
    const unnamed = await loopIn(repo, {
      model: doneAfterWriting('exports.sum = (a, b) => a + b;\n'),
      task: 'Add sum.',
      testCommand: ['node', '-e', 'console.log("legacy"); process.exit(1)'],
      baselineFailures: ['legacy'],
      budget: { maxSteps: 2 },
    });
    expect(unnamed.status).toBe('budget_exhausted');
    expect(unnamed.tests).toMatchObject({ passed: false, exitCode: 1 });
  });

  it("excuses only a run that exits with the baseline's exit code, when that is known", async () => {
    const same = await loopIn(repo, {
      model: doneAfterWriting('exports.sum = (a, b) => a + b;\n'),
      task: 'Add sum.',
      testCommand,
      baselineFailures: ['legacy'],
      baselineExitCode: 1,
    });
    expect(same).toMatchObject({ status: 'succeeded', tests: { exitCode: 1, passed: true, exceptBaseline: ['legacy'] } });

    // The same failing tests, but the command now ends differently (a later step of it failed).
    const model = doneAfterWriting('exports.sum = (a, b) => a + b;\n');
    const other = await loopIn(repo, {
      model,
      task: 'Add sum.',
      testCommand: ['sh', '-c', `${testCommand.join(' ')}; exit 3`],
      baselineFailures: ['legacy'],
      baselineExitCode: 1,
      budget: { maxSteps: 3 },
    });
    expect(other.status).not.toBe('succeeded');
    expect(other.tests).toMatchObject({ passed: false, exitCode: 3 });
    expect(other.tests?.exceptBaseline).toBeUndefined();
    // The model is told why the baseline did not excuse the run.
    expect(model.seen[2]?.at(-1)?.content).toContain('exited with 3, the baseline run with 1');
  });

  it('does not excuse a crash after the TAP output, even with the exit code of the baseline', async () => {
    const model = doneAfterWriting('exports.sum = (a, b) => a + b;\n');
    const verdict = await loopIn(repo, {
      model,
      task: 'Add sum.',
      // The tests fail only in `legacy`; then a crash that names no test, and the tests' exit code.
      testCommand: ['sh', '-c', `${testCommand.join(' ')}; code=$?; node -e "throw new Error('crashed after the tests')"; exit $code`],
      baselineFailures: ['legacy'],
      baselineExitCode: 1,
      budget: { maxSteps: 3 },
    });
    expect(verdict.status).not.toBe('succeeded');
    expect(verdict.tests).toMatchObject({ passed: false, exitCode: 1 });
    expect(model.seen[2]?.at(-1)?.content).toContain('could not all be named');
  });

  it('refuses a baseline exit code that is no failing exit code, naming the option', async () => {
    for (const baselineExitCode of [0, 1.5, 256]) {
      await expect(
        loopIn(repo, { model: doneAfterWriting('x'), task: 'Add sum.', testCommand, baselineFailures: ['legacy'], baselineExitCode }),
      ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('baselineExitCode') });
    }
  });
});

describe('runAgentLoop with a baseline read in another directory', () => {
  let repo: string;
  let baselineDir: string;
  // `broken.test.js` fails as a whole file, which node --test names by its absolute path.
  const testCommand = ['node', '--test', '--test-reporter=tap', 'sum.test.js', 'broken.test.js'];
  beforeEach(() => {
    repo = realpathSync(mkdtempSync(join(tmpdir(), 'maestro-loop-')));
    git(repo, 'init', '-q', '-b', 'main');
    git(repo, 'config', 'user.email', 'test@example.com');
    git(repo, 'config', 'user.name', 'Test');
    writeFileSync(
      join(repo, 'sum.test.js'),
      ["const { test } = require('node:test');", "const assert = require('node:assert');", "const { sum } = require('./sum.js');", "test('sum adds', () => assert.strictEqual(sum(2, 3), 5));", ''].join('\n'),
    );
    writeFileSync(join(repo, 'broken.test.js'), "throw new Error('broken before anyone started');\n");
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'tests first');
    // Preflight's baseline runs in its own worktree, as here in a clone elsewhere.
    baselineDir = realpathSync(mkdtempSync(join(tmpdir(), 'maestro-baseline-')));
    git(baselineDir, 'clone', '-q', repo, '.');
  });
  afterEach(() => {
    rmSync(repo, { recursive: true, force: true });
    rmSync(baselineDir, { recursive: true, force: true });
  });

  it('matches a whole-file baseline failure by its repository-relative name', async () => {
    const baselineRun = spawnSync(testCommand[0] ?? 'node', testCommand.slice(1), { cwd: baselineDir, encoding: 'utf8' });
    const baseline = failingTestNames(`${baselineRun.stdout}${baselineRun.stderr}`, { cwd: baselineDir });
    expect(baseline).toMatchObject({ known: true, names: expect.arrayContaining(['sum.test.js', 'broken.test.js']) });
    expect(baseline.known && baseline.names.length).toBe(2);
    if (!baseline.known) return;

    const verdict = await loopIn(repo, {
      model: scriptedChatModel({ rules: [{ name: 'r', turns: [{ toolCalls: [write('sum.js', 'exports.sum = (a, b) => a + b;\n')] }, { content: 'Implemented sum.' }] }] }),
      task: 'Add sum.',
      testCommand,
      baselineFailures: baseline.names,
      baselineExitCode: baselineRun.status ?? undefined,
      budget: { maxSteps: 2 },
    });
    expect(verdict).toMatchObject({ status: 'succeeded', tests: { exitCode: 1, passed: true, exceptBaseline: ['broken.test.js'] } });
  });
});
