import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cgroupV2Evidence, detectCgroupV1 } from './cgroup-limits.js';

const V1_SELF = '8:pids:/\n4:memory:/docker/abc\n1:cpu,cpuacct:/\n0::/\n';

describe('cgroupV2Evidence', () => {
  it('names a cgroup2 mount at the root', () => {
    expect(cgroupV2Evidence({ root: '/sys/fs/cgroup', rootIsCgroup2: true, selfCgroup: V1_SELF })).toBe('/sys/fs/cgroup is a cgroup2 mount');
  });

  it('names a /proc/self/cgroup that lists only the unified hierarchy', () => {
    expect(cgroupV2Evidence({ root: '/sys/fs/cgroup', rootIsCgroup2: false, selfCgroup: '0::/system.slice/x.service\n' })).toMatch(/only the unified 0:: hierarchy/);
  });

  it('finds none on a v1 or hybrid host, or without /proc', () => {
    expect(cgroupV2Evidence({ root: '/sys/fs/cgroup', rootIsCgroup2: false, selfCgroup: V1_SELF })).toBeUndefined();
    expect(cgroupV2Evidence({ root: '/sys/fs/cgroup', rootIsCgroup2: false, selfCgroup: undefined })).toBeUndefined();
  });
});

describe('detectCgroupV1', () => {
  it('says which hierarchy is missing under a root without one', () => {
    const root = mkdtempSync(join(tmpdir(), 'maestro-no-cgroup-'));
    try {
      const found = detectCgroupV1('pids', root);
      expect(found).toEqual({ usable: false, reason: expect.stringMatching(new RegExp(`^no cgroup v1 pids hierarchy at ${join(root, 'pids')}`)) });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
