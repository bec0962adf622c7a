import { UserError } from '@maestro/runtime';
import { isScope, recallScopes, requireScope } from './memory-scope.js';

describe('scopes', () => {
  it('knows project, user:<id> and team:<id>', () => {
    expect(['project', 'user:alice', 'team:core', 'user:alice@example.com', 'team:a.b_c-d'].every(isScope)).toBe(true);
    expect(['', 'Project', 'org:x', 'user:', 'user:a:b', 'team:a b', 'user:a,b'].some(isScope)).toBe(false);
  });

  it('reads an empty scope as project, and names the field of a bad one', () => {
    expect(requireScope('', 'scope')).toBe('project');
    expect(requireScope(' user:bob ', 'scope')).toBe('user:bob');
    expect(() => requireScope('org:x', 'scopes[2]')).toThrow(UserError);
    expect(() => requireScope('org:x', 'scopes[2]')).toThrow(/^scopes\[2\]: must be "project", "user:<id>" or "team:<id>"/);
  });

  it('always recalls the project scope first, each scope once', () => {
    expect(recallScopes([])).toEqual(['project']);
    expect(recallScopes(['team:core', 'project', 'team:core'])).toEqual(['project', 'team:core']);
  });
});
