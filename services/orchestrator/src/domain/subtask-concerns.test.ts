import { subtaskConcerns } from './subtask-concerns.js';

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

