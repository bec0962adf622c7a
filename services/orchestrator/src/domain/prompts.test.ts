import {
  buildEscalationPrompt,
  buildPlanPrompt,
  buildReAskMessages,
  buildReflectPrompt,
  buildReviewPrompt,
  PLAN_REPLY_FORMAT,
  REFLECT_REPLY_FORMAT,
  summarizeFileListing,
} from './prompts.js';
import { divideEscalation } from '../../test/reflex-records.js';
import { parsePlanReply } from './plan.js';

describe('summarizeFileListing', () => {
  it('lists shallow files and collapses deep ones into their directory', () => {
    const lines = summarizeFileListing(
      ['package.json', 'src/math.js', 'src/lib/a/b.js', 'src/lib/a/c.js', 'src/lib/z.js'],
      { maxDepth: 3 },
    );
    expect(lines).toEqual(['package.json', 'src/lib/a/ (2 files)', 'src/lib/z.js', 'src/math.js']);
  });

  it('caps the number of entries and says how many were left out', () => {
    const files = Array.from({ length: 10 }, (_, i) => `f${i}.js`);
    const lines = summarizeFileListing(files, { maxEntries: 4 });
    expect(lines).toHaveLength(5);
    expect(lines[4]).toBe('… and 6 more entries');
  });
});

describe('buildPlanPrompt', () => {
  it('carries the goal, test command, files and memory notes', () => {
    const [system, user] = buildPlanPrompt({
      goal: 'Add multiply',
      project: 'calc',
      testCommand: ['npm', 'test'],
      files: ['src/math.js'],
      notes: [{ kind: 'preference', content: 'Use ES modules' }],
    });
    expect(system?.role).toBe('system');
    expect(system?.content).toContain('"subtasks"');
    expect(user?.content).toContain('## Goal\nAdd multiply');
    expect(user?.content).toContain('Test command: npm test');
    expect(user?.content).toContain('src/math.js');
    expect(user?.content).toContain('- (preference) Use ES modules');
  });

  it('leaves the notes section out when memory had nothing', () => {
    const [, user] = buildPlanPrompt({ goal: 'g', project: 'p', testCommand: ['make', 'test'], files: [], notes: [] });
    expect(user?.content).not.toContain('Notes from memory');
    expect(user?.content).toContain('(the repository has no files yet)');
  });
});

describe('buildReviewPrompt', () => {
  it('includes every subtask with its evidence', () => {
    const [system, user] = buildReviewPrompt({
      goal: 'Add multiply',
      testCommand: ['npm', 'test'],
      subtasks: [
        {
          id: 's1',
          title: 'Add multiply',
          status: 'succeeded',
          summary: 'added multiply',
          filesChanged: ['src/math.js'],
          commitSha: 'abc123',
          failureReason: null,
          tests: { command: ['npm', 'test'], exitCode: 0, passed: true, outputTail: '# pass 3' },
        },
        { id: 's2', title: 'Docs', status: 'failed', summary: null, filesChanged: [], commitSha: null, failureReason: 'budget exhausted' },
      ],
    });
    expect(system?.content).toContain('"approved"');
    expect(user?.content).toContain('### s1: Add multiply');
    expect(user?.content).toContain('Files changed: src/math.js');
    expect(user?.content).toContain('Commit: abc123');
    expect(user?.content).toContain('Tests: `npm test` passed (exit code 0)');
    expect(user?.content).toContain('# pass 3');
    expect(user?.content).toContain('Failure: budget exhausted');
    expect(user?.content).toContain('Tests: not run');
    expect(user?.content).not.toContain('Notes from memory');
  });

  it('holds the work to the recalled memory notes', () => {
    const [, user] = buildReviewPrompt({
      goal: 'Add multiply',
      testCommand: ['npm', 'test'],
      subtasks: [],
      notes: [{ kind: 'reflex', content: 'divide() must throw a RangeError when b is 0' }],
    });
    expect(user?.content).toContain('## Notes from memory\nWhat the team knows about this repository');
    expect(user?.content).toContain('- (reflex) divide() must throw a RangeError when b is 0');
  });
});

describe('buildReflectPrompt', () => {
  it('shows the failure, the verified fix and the fixed topic, and asks for the lesson only', () => {
    const [system, user] = buildReflectPrompt({
      goal: 'Add divide()',
      project: 'calc',
      packet: divideEscalation().packet,
      failureReason: 'tests_failed: the tests stayed red',
      failingTests: ['divide refuses to divide by zero'],
      errorLine: "error: 'Missing expected exception (RangeError).'",
      fix: 'hint: throw a RangeError when b is 0',
      testCommand: ['node', '--test'],
      mergedSha: 'abc123',
      filesChanged: ['src/divide.js'],
      topic: 'failing tests: divide refuses to divide by zero',
    });
    expect(system?.content).toContain(REFLECT_REPLY_FORMAT);
    expect(user?.content).toContain('## What fixed it\nhint: throw a RangeError when b is 0');
    expect(user?.content).toContain('Failing tests: divide refuses to divide by zero');
    expect(user?.content).toContain('## Verified by\n`node --test` passed at abc123; files changed: src/divide.js');
    expect(user?.content).toContain('## Topic (fixed)\nfailing tests: divide refuses to divide by zero');
    expect(REFLECT_REPLY_FORMAT).not.toContain('topic');
    expect(user?.content).toContain('not ok 2 - divide refuses to divide by zero');
  });
});

describe('buildEscalationPrompt', () => {
  const packet = {
    reason: 'tests_failed' as const,
    subtask: { title: 'Create src/divide.js', instructions: 'Export divide(a, b)', files: ['src/divide.js'], hint: 'check b' },
    attempts: [{ step: 4, summary: 'npm test: failed (exit 1)', ok: false }],
    steps: 4,
    lastDiff: '+export const divide = (a, b) => a / b;',
    failingTestOutput: 'Missing expected exception (RangeError)',
    agentAccount: 'The test must be wrong.',
    filesChanged: ['src/divide.js'],
    tokensSpent: { input: 900, output: 120 },
  };

  it('shows the goal, the subtask, the failure packet, earlier decisions and the other subtasks, and asks for one of four decisions', () => {
    const [system, user] = buildEscalationPrompt({
      goal: 'Add divide()', testCommand: ['npm', 'test'], subtaskId: 's1', attempt: 2, role: 'tactical', packet,
      failureReason: 'stuck: declared done 2 times', earlier: [{ attempt: 1, reason: 'stuck', decision: 'hint', decisionReason: 'missing check', hint: 'check b' }],
      otherSubtasks: [{ id: 's2', title: 'Docs', status: 'succeeded' }],
    });
    expect(system?.content).toContain('"decision": "replan"');
    for (const text of ['## Goal\nAdd divide()', 'Id: s1 (attempt 2, worked by the tactical model)', 'Hint it was given: check b', 'Reason: tests_failed — stuck: declared done 2 times',
      'npm test: failed (exit 1)', 'The test must be wrong.', 'Missing expected exception (RangeError)', '+export const divide', 'attempt 1 (stuck): hint — missing check (hint: check b)', '- s2: Docs (succeeded)']) {
      expect(user?.content).toContain(text);
    }
  });

  it('re-asks with the reply, the problem and the format', () => {
    const messages = buildReAskMessages([{ role: 'user', content: 'plan please' }], 'a plan', 'the plan reply is not JSON', PLAN_REPLY_FORMAT);
    expect(messages.slice(1)).toEqual([
      { role: 'assistant', content: 'a plan' },
      { role: 'user', content: `Your reply could not be used: the plan reply is not JSON\nReply again with JSON only, exactly in this shape:\n${PLAN_REPLY_FORMAT}` },
    ]);
  });
});

describe('the plan prompt on scheduling', () => {
  const [system] = buildPlanPrompt({ goal: 'g', project: 'p', testCommand: ['npm', 'test'], files: [], notes: [] });
  const text = system?.content ?? '';

  it('says what Orion really does: shared files and resources in plan order, dependsOn, the rest in parallel', () => {
    expect(text).toContain('subtasks that share a file (or a file inside a listed directory) or a declared resource run one after the other, in the order you list them');
    expect(text).toContain('"dependsOn" lists ids of earlier subtasks that must succeed first; if one of them fails, the subtasks that depend on it do not run');
    expect(text).toContain('everything else runs in parallel');
    expect(text).toContain('in its own git worktree of the task\'s branch');
    expect(text).toContain('"port:<number>"');
    expect(text).toContain('"resource:<name>"');
    expect(text).toContain('"dir:<path>"');
  });

  it('no longer claims that agents lock the paths to order subtasks', () => {
    expect(text).not.toContain('agents lock those paths');
  });

  it('asks for the reply format that the plan parser accepts, dependsOn and resources included', () => {
    expect(text).toContain(PLAN_REPLY_FORMAT);
    expect(PLAN_REPLY_FORMAT).toContain('"dependsOn":[]');
    expect(PLAN_REPLY_FORMAT).toContain('"resources":[]');
    expect(parsePlanReply(PLAN_REPLY_FORMAT).subtasks[0]).toMatchObject({ dependsOn: [], resources: [] });
  });
});
