import { buildPlanPrompt, buildReviewPrompt, summarizeFileListing } from './prompts.js';

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
  });
});
