import { UserError } from '@maestro/runtime';
import { validateAcquire, validateCheckFence, validateExtend, validateRelease } from './lease.js';
import { fenced, lockConflict, lockNotHeld } from './lock-errors.js';

const valid = { owner: 'exec-1/sub-1', concerns: ['file:/repo/a.ts'], ttlMs: 30_000, waitMs: 0 };

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).code).toBe('INVALID_ARGUMENT');
    return (err as UserError).field;
  }
  throw new Error('expected a UserError');
}

describe('validateAcquire', () => {
  it('normalizes concerns and drops duplicates, keeping first positions', () => {
    const spec = validateAcquire({
      ...valid,
      concerns: ['file:/repo/b.ts', 'port:80', 'file:/repo/./b.ts', 'port:080', 'dir:/repo/'],
    });
    expect(spec.concerns).toEqual(['file:/repo/b.ts', 'port:80', 'dir:/repo']);
    expect(spec.sharedConcerns).toEqual([]);
  });

  it('normalizes shared concerns; one asked both ways is held exclusive', () => {
    const spec = validateAcquire({ ...valid, concerns: ['file:/repo/a.ts'], sharedConcerns: ['dir:/repo/lib/', 'file:/repo//a.ts', 'dir:/repo/lib'] });
    expect(spec.concerns).toEqual(['file:/repo/a.ts']);
    expect(spec.sharedConcerns).toEqual(['dir:/repo/lib']);
  });

  it('accepts a request of shared concerns only', () => {
    expect(validateAcquire({ ...valid, concerns: [], sharedConcerns: ['repo:/r'] }).sharedConcerns).toEqual(['repo:/r']);
  });

  it('bounds repo:/dir:/file: concerns by repo_root, leaving other kinds alone', () => {
    const spec = validateAcquire({
      ...valid,
      repoRoot: '/work/r1/',
      concerns: ['repo:/work/r1', 'dir:/work/r1/src', 'port:80', 'git-index:/elsewhere'],
      sharedConcerns: ['file:/work/r1/a.ts'],
    });
    expect(spec.concerns).toEqual(['repo:/work/r1', 'dir:/work/r1/src', 'port:80', 'git-index:/elsewhere']);
    expect(fieldOf(() => validateAcquire({ ...valid, repoRoot: '/work/r1', concerns: ['file:/work/r1/a', 'file:/work/r10/a'] }))).toBe(
      'concerns[1]',
    );
    expect(fieldOf(() => validateAcquire({ ...valid, concerns: [], repoRoot: '/work/r1', sharedConcerns: ['dir:/work'] }))).toBe('shared_concerns[0]');
    expect(fieldOf(() => validateAcquire({ ...valid, repoRoot: 'work/r1' }))).toBe('repo_root');
    expect(fieldOf(() => validateAcquire({ ...valid, repoRoot: '/work/../r1' }))).toBe('repo_root');
    expect(() => validateAcquire({ ...valid, repoRoot: '/work/r1', concerns: ['file:/work/r10/a'] })).toThrow(
      'concerns[0]: file:/work/r10/a is outside repo_root /work/r1',
    );
  });

  it('trims the owner', () => {
    expect(validateAcquire({ ...valid, owner: '  exec-1 ' }).owner).toBe('exec-1');
  });

  it.each([
    [{ owner: '' }, 'owner'],
    [{ owner: '   ' }, 'owner'],
    [{ owner: 'x'.repeat(300) }, 'owner'],
    [{ concerns: [] }, 'concerns'],
    [{ concerns: Array.from({ length: 101 }, (_, i) => `port:${i + 1}`) }, 'concerns'],
    [{ concerns: ['file:/a', 'nonsense'] }, 'concerns[1]'],
    [{ concerns: ['file:/a/../b'] }, 'concerns[0]'],
    [{ sharedConcerns: ['file:relative'] }, 'shared_concerns[0]'],
    [{ concerns: Array.from({ length: 60 }, (_, i) => `port:${i + 1}`), sharedConcerns: Array.from({ length: 41 }, (_, i) => `resource:r${i}`) }, 'concerns'],
    [{ ttlMs: 0 }, 'ttl_ms'],
    [{ ttlMs: 3_600_001 }, 'ttl_ms'],
    [{ ttlMs: 1.5 }, 'ttl_ms'],
    [{ waitMs: -1 }, 'wait_ms'],
    [{ waitMs: 300_001 }, 'wait_ms'],
  ])('rejects %j naming %s', (patch, field) => {
    expect(fieldOf(() => validateAcquire({ ...valid, ...patch }))).toBe(field);
  });

  it('accepts the bounds', () => {
    expect(validateAcquire({ ...valid, ttlMs: 1, waitMs: 300_000 }).ttlMs).toBe(1);
    expect(validateAcquire({ ...valid, ttlMs: 3_600_000 }).ttlMs).toBe(3_600_000);
    const hundred = Array.from({ length: 100 }, (_, i) => `port:${i + 1}`);
    expect(validateAcquire({ ...valid, concerns: hundred }).concerns).toHaveLength(100);
  });
});

describe('validateExtend / validateRelease', () => {
  it('requires lease_id, owner and a ttl', () => {
    expect(fieldOf(() => validateExtend({ leaseId: '', owner: 'a', ttlMs: 10 }))).toBe('lease_id');
    expect(fieldOf(() => validateExtend({ leaseId: 'l', owner: '', ttlMs: 10 }))).toBe('owner');
    expect(fieldOf(() => validateExtend({ leaseId: 'l', owner: 'a', ttlMs: 0 }))).toBe('ttl_ms');
    expect(fieldOf(() => validateRelease({ leaseId: ' ', owner: 'a' }))).toBe('lease_id');
    expect(validateRelease({ leaseId: 'l', owner: 'a' })).toEqual({ leaseId: 'l', owner: 'a' });
  });
});

describe('validateCheckFence', () => {
  it('requires a lease id and a positive integer token', () => {
    expect(validateCheckFence({ leaseId: 'L', fencingToken: 7 })).toEqual({ leaseId: 'L', fencingToken: 7 });
    expect(fieldOf(() => validateCheckFence({ leaseId: '', fencingToken: 7 }))).toBe('lease_id');
    expect(fieldOf(() => validateCheckFence({ leaseId: 'L', fencingToken: 0 }))).toBe('fencing_token');
    expect(fieldOf(() => validateCheckFence({ leaseId: 'L', fencingToken: 1.5 }))).toBe('fencing_token');
  });
});

const heldBy = { concern: 'port:8080', heldConcern: 'port:8080', heldMode: 'exclusive', owner: 'exec-2', leaseId: 'L1', queued: false } as const;

describe('lock errors', () => {
  it('LOCK_CONFLICT names the concern and its holder, as a precondition failure', () => {
    const err = lockConflict(heldBy, 500);
    expect(err.code).toBe('LOCK_CONFLICT');
    expect(err.reason).toBe('precondition');
    expect(err.message).toBe('port:8080 is held by exec-2 (lease L1) after waiting 500 ms; retry later or wait longer (wait_ms)');
  });

  it('LOCK_CONFLICT says when the blocker is an overlapping concern, shared, or a request queued earlier', () => {
    expect(lockConflict({ ...heldBy, concern: 'file:/r/a', heldConcern: 'dir:/r', heldMode: 'shared' }, 0).message).toBe(
      'file:/r/a overlaps dir:/r, held (shared) by exec-2 (lease L1); retry later or wait longer (wait_ms)',
    );
    expect(lockConflict({ ...heldBy, queued: true }, 0).message).toBe(
      'port:8080 is requested earlier by exec-2 (queued request L1), which is served first; retry later or wait longer (wait_ms)',
    );
  });

  it('FENCED names the field at fault and the newest token when known', () => {
    const gone = fenced('L1', 33, 'not_live', 34);
    expect(gone).toMatchObject({ code: 'FENCED', reason: 'precondition', field: 'lease_id', details: { newestToken: 34 } });
    expect(gone.message).toContain('newest token on an overlapping concern is 34');
    const wrong = fenced('L1', 33, 'token_mismatch', undefined);
    expect(wrong).toMatchObject({ field: 'fencing_token' });
    expect(wrong.message).toBe('fencing token 33 is not the token of lease L1');
  });

  it('LOCK_NOT_HELD says whether the lease is gone or someone else’s', () => {
    expect(lockNotHeld('L1', 'b', 'other_owner').message).toContain('not held by b');
    expect(lockNotHeld('L1', 'a', 'expired_or_released').message).toContain('it expired, was released, or never existed');
    expect(lockNotHeld('L1', 'a', 'other_owner')).toMatchObject({ reason: 'precondition', field: 'owner' });
    expect(lockNotHeld('L1', 'a', 'expired_or_released')).toMatchObject({ field: 'lease_id' });
    const unknown = lockNotHeld('L9', 'a', 'no_such_lease');
    expect(unknown).toMatchObject({ code: 'LOCK_NOT_HELD', reason: 'precondition', field: 'lease_id', details: { why: 'no_such_lease' } });
    expect(unknown.message).toMatch(/^lease_id: no such lease L9; .*Nothing was released/);
  });
});
