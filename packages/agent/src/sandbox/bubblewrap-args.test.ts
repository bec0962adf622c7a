import { bubblewrapArgs, type BubblewrapPlan } from './bubblewrap-args.js';
import { ETC_ALLOW_LIST, systemMounts } from './system-mounts.js';

const plan: BubblewrapPlan = {
  bwrapPath: '/usr/bin/bwrap',
  prlimitPath: '/usr/bin/prlimit',
  network: false,
  system: systemMounts(),
  readOnly: ['/repo/.git'],
  worktree: '/wt/a',
  protectedInside: ['/wt/a/.git'],
  cwd: '/wt/a/pkg',
  cgroupProcs: {},
  rlimits: ['--cpu=5'],
  argv: ['node', '--test', '$(touch x)'],
};

/** The value after each occurrence of `flag` (first argument only). */
function after(args: string[], flag: string): string[] {
  return args.flatMap((arg, i) => (arg === flag ? [args[i + 1] ?? ''] : []));
}

describe('bubblewrapArgs', () => {
  it('unshares everything, drops capabilities and shares the network only when allowed', () => {
    const closed = bubblewrapArgs(plan);
    expect(closed).toEqual(expect.arrayContaining(['--unshare-all', '--die-with-parent', '--new-session', '--cap-drop', 'ALL']));
    expect(closed).not.toContain('--share-net');
    expect(bubblewrapArgs({ ...plan, network: true })).toContain('--share-net');
  });

  it('mounts a curated read-only view, never / nor the secrets of /etc', () => {
    const args = bubblewrapArgs(plan);
    const readOnly = after(args, '--ro-bind-try');
    expect(readOnly).toEqual(expect.arrayContaining(['/usr', '/etc/passwd', '/etc/resolv.conf', '/etc/ssl/certs']));
    for (const hidden of ['/', '/etc', '/etc/shadow', '/etc/gshadow', '/etc/ssh', '/etc/ssl/private', '/root', '/home', '/run', '/var', '/tmp']) {
      expect(readOnly).not.toContain(hidden);
    }
    expect(ETC_ALLOW_LIST.every((path) => path.startsWith('/etc/'))).toBe(true);
    expect(after(args, '--bind')).toEqual(['/wt/a']);
  });

  it('binds the worktree after the read-only paths and its .git read-only over it', () => {
    const args = bubblewrapArgs(plan);
    const worktreeAt = args.indexOf('/wt/a');
    expect(args.lastIndexOf('/repo/.git')).toBeLessThan(worktreeAt);
    expect(args.indexOf('/wt/a/.git')).toBeGreaterThan(worktreeAt);
    expect(args.indexOf('--tmpfs')).toBeLessThan(worktreeAt);
    expect(after(args, '--chdir')).toEqual(['/wt/a/pkg']);
  });

  it('runs the argv through prlimit as separate arguments, never through a shell', () => {
    const args = bubblewrapArgs(plan);
    expect(args.slice(args.indexOf('--') + 1)).toEqual(['/usr/bin/prlimit', '--cpu=5', '--', 'node', '--test', '$(touch x)']);
  });

  it('joins the cgroups from inside before exec, the argv kept positional', () => {
    const args = bubblewrapArgs({ ...plan, cgroupProcs: { pids: '/sys/fs/cgroup/pids/x/cgroup.procs' } });
    expect(after(args, '--bind')).toEqual(['/wt/a', '/sys/fs/cgroup/pids/x/cgroup.procs']);
    const command = args.slice(args.indexOf('--') + 1);
    expect(command.slice(0, 4)).toEqual(['/bin/sh', '-c', 'echo $$ > /.maestro-cgroup/pids && exec "$@"', 'maestro-sandbox']);
    expect(command.slice(4)).toEqual(['/usr/bin/prlimit', '--cpu=5', '--', 'node', '--test', '$(touch x)']);
  });
});
