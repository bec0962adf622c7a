import { UserError } from '@maestro/runtime';
import { PLAN_REPLY_INVALID, parsePlanReply } from './plan.js';

const plan = {
  subtasks: [
    { id: 's1', title: 'Add multiply', instructions: 'Export multiply(a, b) from src/math.js', files: ['src/math.js'] },
    { id: 's2', title: 'Test multiply', instructions: 'Add tests', files: ['./test/math.test.js'] },
  ],
};

function parseError(reply: string): UserError {
  try {
    parsePlanReply(reply);
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).code).toBe(PLAN_REPLY_INVALID);
    return err as UserError;
  }
  throw new Error('expected parsePlanReply to throw');
}

describe('parsePlanReply', () => {
  it('parses bare JSON and normalizes ./ paths', () => {
    const parsed = parsePlanReply(JSON.stringify(plan));
    expect(parsed.subtasks.map((s) => s.id)).toEqual(['s1', 's2']);
    expect(parsed.subtasks[1]?.files).toEqual(['test/math.test.js']);
  });

  it('parses JSON inside a ```json fence with prose around it', () => {
    const reply = `Here is the plan:\n\n\`\`\`json\n${JSON.stringify(plan, null, 2)}\n\`\`\`\nGood luck!`;
    expect(parsePlanReply(reply).subtasks).toHaveLength(2);
  });

  it('defaults files to an empty list', () => {
    const parsed = parsePlanReply('{"subtasks":[{"id":"a","title":"t","instructions":"i"}]}');
    expect(parsed.subtasks[0]?.files).toEqual([]);
  });

  it('rejects a reply that is not JSON, quoting it', () => {
    const err = parseError('I think we should add a function.');
    expect(err.message).toContain('the plan reply is not JSON');
    expect(err.message).toContain('"I think we should add a function."');
  });

  it('rejects an empty plan', () => {
    expect(parseError('{"subtasks":[]}').message).toContain('subtasks: must contain at least one subtask');
  });

  it('rejects more than 20 subtasks', () => {
    const many = Array.from({ length: 21 }, (_, i) => ({ id: `s${i}`, title: 't', instructions: 'i', files: [] }));
    expect(parseError(JSON.stringify({ subtasks: many })).message).toContain('at most 20 subtasks');
  });

  it('rejects duplicate ids, naming the subtask', () => {
    const dup = { subtasks: [plan.subtasks[0], { ...plan.subtasks[1], id: 's1' }] };
    expect(parseError(JSON.stringify(dup)).message).toContain('subtasks[1].id: duplicate id "s1"');
  });

  it.each([
    ['../outside.js', 'no ".."'],
    ['src/../../etc/passwd', 'no ".."'],
    ['/etc/passwd', 'not absolute'],
    ['C:/x.js', 'not absolute'],
    ['src\\win.js', '"/" separators'],
    ['', 'must not be empty'],
  ])('rejects the file path %j', (file, message) => {
    const bad = { subtasks: [{ ...plan.subtasks[0], files: [file] }] };
    const err = parseError(JSON.stringify(bad));
    expect(err.message).toContain('subtasks[0].files[0]');
    expect(err.message).toContain(message);
  });

  it('rejects ids that cannot be part of a work id', () => {
    const bad = { subtasks: [{ ...plan.subtasks[0], id: 'a:b' }] };
    expect(parseError(JSON.stringify(bad)).message).toContain('subtasks[0].id');
  });

  it('rejects a missing field, naming it', () => {
    const err = parseError('{"subtasks":[{"id":"s1","title":"x"}]}');
    expect(err.message).toContain('subtasks[0].instructions');
  });
});

describe('parsePlanReply: dependsOn and resources', () => {
  const base = (id: string, extra: Record<string, unknown> = {}) => ({ id, title: `t ${id}`, instructions: 'i', ...extra });

  it('defaults both to empty lists', () => {
    const parsed = parsePlanReply(JSON.stringify({ subtasks: [base('s1')] }));
    expect(parsed.subtasks[0]).toMatchObject({ dependsOn: [], resources: [] });
  });

  it('keeps the trailing "/" of a directory among the files', () => {
    const parsed = parsePlanReply(JSON.stringify({ subtasks: [base('s1', { files: ['./src/gen/', 'src/a.js'] })] }));
    expect(parsed.subtasks[0]?.files).toEqual(['src/gen/', 'src/a.js']);
  });

  it('accepts dependencies on other subtasks of the plan', () => {
    const parsed = parsePlanReply(JSON.stringify({ subtasks: [base('s1'), base('s2', { dependsOn: ['s1'] }), base('s3', { dependsOn: ['s1', 's2'] })] }));
    expect(parsed.subtasks.map((s) => s.dependsOn)).toEqual([[], ['s1'], ['s1', 's2']]);
  });

  it('rejects an unknown id, naming its path', () => {
    const err = parseError(JSON.stringify({ subtasks: [base('s1'), base('s2', { dependsOn: ['s1', 's9'] })] }));
    expect(err.message).toContain('subtasks[1].dependsOn[1]: unknown subtask id "s9"');
  });

  it('rejects a subtask that depends on itself', () => {
    expect(parseError(JSON.stringify({ subtasks: [base('s1', { dependsOn: ['s1'] })] })).message).toContain(
      'subtasks[0].dependsOn[0]: a subtask cannot depend on itself ("s1")',
    );
  });

  it('rejects a cycle, naming it', () => {
    const err = parseError(JSON.stringify({ subtasks: [base('s1', { dependsOn: ['s3'] }), base('s2', { dependsOn: ['s1'] }), base('s3', { dependsOn: ['s2'] })] }));
    expect(err.message).toContain('subtasks[0].dependsOn: dependency cycle s1 → s3 → s2 → s1');
  });

  it('normalizes ports, named resources and relative directories', () => {
    const parsed = parsePlanReply(JSON.stringify({ subtasks: [base('s1', { resources: ['port:03000', ' resource:staging-db ', 'dir:./src/gen/'] })] }));
    expect(parsed.subtasks[0]?.resources).toEqual(['port:3000', 'resource:staging-db', 'dir:src/gen']);
  });

  it.each([
    ['port:0', 'port: needs a number 1..65535'],
    ['port:70000', 'port: needs a number 1..65535'],
    ['port:http', 'port: needs a number 1..65535'],
    ['resource:two words', 'resource: needs a name'],
    ['resource:', 'resource: needs a name'],
    ['dir:/etc', 'must be relative to the repository'],
    ['dir:../up', 'no ".."'],
    ['dir:src/../../up', 'no ".."'],
    ['file:src/a.js', 'must be port:<number>, resource:<name> or dir:<relative path>'],
    ['staging-db', 'must be port:<number>, resource:<name> or dir:<relative path>'],
  ])('rejects the resource %j', (resource, message) => {
    const err = parseError(JSON.stringify({ subtasks: [base('s1', { resources: ['port:1', resource] })] }));
    expect(err.message).toContain('subtasks[0].resources[1]');
    expect(err.message).toContain(message);
  });
});
