import { parseExecutorMarker, pidOfDefaultIdDirectory } from './executor-directory.js';
import { toSafeSegment } from './worktree-layout.js';

describe('pidOfDefaultIdDirectory', () => {
  it('reads the pid of a <hostname>-<pid> directory of this host', () => {
    expect(pidOfDefaultIdDirectory('build-7-4242', 'build-7')).toBe(4242);
    expect(pidOfDefaultIdDirectory(toSafeSegment('host.example.org-31'), 'host.example.org')).toBe(31);
  });

  it.each([
    ['other-host-4242', 'build-7'],
    ['build-7-', 'build-7'],
    ['build-7-0', 'build-7'],
    ['build-7-12x', 'build-7'],
    ['build-7-worker-3', 'build-7'],
    ['exec-wt', 'build-7'],
  ])('ignores %s on %s', (name, host) => {
    expect(pidOfDefaultIdDirectory(name, host)).toBeUndefined();
  });
});

describe('parseExecutorMarker', () => {
  it('reads a marker and refuses anything else', () => {
    expect(parseExecutorMarker('{"executorId":"h-1","hostname":"h","pid":1,"startTime":"99"}')).toEqual({ executorId: 'h-1', hostname: 'h', pid: 1, startTime: '99' });
    expect(parseExecutorMarker('{"executorId":"h-1"}')).toBeUndefined();
    expect(parseExecutorMarker('not json')).toBeUndefined();
  });
});
