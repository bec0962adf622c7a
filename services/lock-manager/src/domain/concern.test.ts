import { UserError } from '@maestro/runtime';
import { parseConcern } from './concern.js';

describe('parseConcern', () => {
  it.each([
    ['file:/repo//src/./b.ts', 'file:/repo/src/b.ts'],
    ['file:/./repo/./a.ts/', 'file:/repo/a.ts'],
    ['repo:/work/r1/', 'repo:/work/r1'],
    ['dir://repo///src//', 'dir:/repo/src'],
    ['dir:/repo/src/', 'dir:/repo/src'],
    ['dir:/', 'dir:/'],
    ['git-index:/repo/', 'git-index:/repo'],
    ['port:08080', 'port:8080'],
    ['resource:postgres-test', 'resource:postgres-test'],
  ])('normalizes %s to %s', (raw, name) => {
    expect(parseConcern(raw).name).toBe(name);
  });

  it('splits kind and value', () => {
    expect(parseConcern('git-index:/r')).toEqual({ kind: 'git-index', value: '/r', name: 'git-index:/r' });
  });

  it.each([
    ['', 'must not be empty'],
    ['src/a.ts', 'no known kind'],
    ['lock:/a', 'no known kind'],
    ['file:relative/a.ts', 'absolute path'],
    ['file:/repo/src/../a.ts', 'must not contain ".." segments'],
    ['dir:/..', 'must not contain ".." segments'],
    ['repo:/a/b/..', 'must not contain ".." segments'],
    ['repo:', 'absolute path'],
    ['Dir:/a', 'no known kind'],
    ['dir:', 'absolute path'],
    ['port:0', '1..65535'],
    ['port:70000', '1..65535'],
    ['port:80a', '1..65535'],
    ['resource:', 'resource: needs a name'],
    ['resource:has space', 'resource: needs a name'],
    ['file:/a\u0000b', 'control characters'],
  ])('rejects %j, naming the field', (raw, why) => {
    let thrown: unknown;
    try {
      parseConcern(raw, 'concerns[3]');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(UserError);
    const err = thrown as UserError;
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.field).toBe('concerns[3]');
    expect(err.message).toMatch(/^concerns\[3\]: /);
    expect(err.message).toContain(why);
  });

  it('rejects an overlong concern', () => {
    expect(() => parseConcern(`resource:${'a'.repeat(5000)}`)).toThrow(/at most 4096/);
  });
});
