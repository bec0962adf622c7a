import { buildConflictTaskText, buildTaskText, formatCommand, HINT_HEADING } from './task-text.js';

const base = {
  goal: 'Give the calculator subtraction',
  title: 'Add subtract()',
  instructions: 'Export subtract(a, b) from src/math.js and test it.',
  files: ['src/math.js', 'test/math.test.js'],
  testCommand: ['npm', 'test'],
};

describe('buildTaskText', () => {
  it('shows the title, goal, instructions, files and how the work is checked', () => {
    const text = buildTaskText(base);
    expect(text).toContain('Subtask: Add subtract()');
    expect(text).toContain('Give the calculator subtraction');
    expect(text).toContain('Instructions:\nExport subtract(a, b) from src/math.js and test it.');
    expect(text).toContain('- src/math.js\n- test/math.test.js');
    expect(text).toContain('`npm test`');
    // Title first: it is what the model should read before anything else.
    expect(text.indexOf('Subtask:')).toBe(0);
  });

  it('leaves out empty sections instead of showing them blank', () => {
    const text = buildTaskText({ ...base, goal: '  ', instructions: '', files: [' '], testCommand: [] });
    expect(text).not.toContain('Instructions:');
    expect(text).not.toContain('overall goal');
    expect(text).not.toContain('Files to look at');
    expect(text).not.toContain('exit 0');
    expect(text).toContain('reply without calling a tool');
  });

  it('names an untitled subtask as such', () => {
    expect(buildTaskText({ ...base, title: '' })).toContain('Subtask: (untitled)');
  });
});

describe('formatCommand', () => {
  it('quotes arguments a shell would split or expand', () => {
    expect(formatCommand(['node', '--test', 'a b', "it's", '$HOME'])).toBe(`node --test 'a b' 'it'\\''s' '$HOME'`);
  });
});

describe('buildTaskText with a hint', () => {
  it("shows Orion's hint after the instructions, and nothing of the kind without one", () => {
    const text = buildTaskText({ ...base, hint: 'throw a RangeError when b is 0' });
    expect(text).toContain(`${HINT_HEADING}\nthrow a RangeError when b is 0`);
    expect(text.indexOf(HINT_HEADING)).toBeGreaterThan(text.indexOf('Instructions:'));
    expect(buildTaskText({ ...base, hint: '  ' })).not.toContain(HINT_HEADING);
    expect(buildTaskText(base)).not.toContain('Hint');
  });
});

describe('buildConflictTaskText', () => {
  it('names the branch and the conflicting files, says what to do, and repeats the subtask', () => {
    const text = buildConflictTaskText(
      { goal: 'g', title: 'Add subtract()', instructions: 'Export it.', files: [], testCommand: ['npm', 'test'] },
      'maestro/t1',
      ['src/math.js', 'README.md'],
    );
    expect(text).toMatch(/^Merge conflict: .* task branch maestro\/t1 .*\n- src\/math\.js\n- README\.md/);
    expect(text).toContain('commit with git.commit (it concludes the merge)');
    expect(text).toContain('The subtask you completed:\n\nSubtask: Add subtract()');
  });
});
