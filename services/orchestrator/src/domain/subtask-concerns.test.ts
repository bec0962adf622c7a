import { concernsConflict, subtaskConcerns } from './subtask-concerns.js';

describe('subtaskConcerns', () => {
  it('declares files, directories and resources as lock-manager names on the repository', () => {
    const dirs = new Set(['src/lib']);
    expect(
      subtaskConcerns('/work/repo/', ['src/a.js', 'src/gen/', 'src/lib', 'src/a.js'], ['port:3000', 'resource:staging-db', 'dir:docs'], (p) => dirs.has(p)),
    ).toEqual(['file:/work/repo/src/a.js', 'dir:/work/repo/src/gen', 'dir:/work/repo/src/lib', 'port:3000', 'resource:staging-db', 'dir:/work/repo/docs']);
  });

  it('has no concerns for a subtask without files or resources', () => {
    expect(subtaskConcerns('/r', [], [], () => false)).toEqual([]);
  });
});

describe('concernsConflict', () => {
  it.each([
    ['file:/r/a', 'file:/r/a', true],
    ['file:/r/a', 'file:/r/b', false],
    ['dir:/r/src', 'file:/r/src/a', true],
    ['file:/r/src/deep/a', 'dir:/r/src', true],
    ['dir:/r/src', 'dir:/r/src/gen', true],
    ['dir:/r/src', 'file:/r/srcx/a', false],
    ['dir:/', 'file:/anything', true],
    ['port:3000', 'port:3000', true],
    ['port:3000', 'port:3001', false],
    ['resource:db', 'resource:db', true],
    ['resource:db', 'port:db', false],
    ['file:/r/a', 'resource:/r/a', false],
  ])('%s vs %s → %s', (a, b, expected) => {
    expect(concernsConflict(a, b)).toBe(expected);
    expect(concernsConflict(b, a)).toBe(expected);
  });
});
