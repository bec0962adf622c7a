import { parseWorktreeLink, parseWorktreeLinks } from './worktree-links.js';

describe('parseWorktreeLinks', () => {
  it('normalizes relative paths and drops duplicates', () => {
    expect(parseWorktreeLinks(['node_modules', './node_modules/', 'packages/*/node_modules'])).toEqual(['node_modules', 'packages/*/node_modules']);
  });

  it('reads "none" as no links', () => {
    expect(parseWorktreeLinks(['none'])).toEqual([]);
  });

  it.each([
    ['/abs/node_modules', /not absolute/],
    ['../outside', /inside the repository/],
    ['a/../../b', /inside the repository/],
    ['.', /inside the repository/],
    ['.git', /\.git/],
    ['sub/.git/hooks', /\.git/],
    ['pack*/node_modules', /whole path segment/],
    ['packages/*', /must not end/],
    ['  ', /must not be empty/],
  ])('refuses %s', (entry, message) => {
    expect(() => parseWorktreeLink(entry)).toThrow(message);
  });
});
