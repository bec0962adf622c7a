import { UserError } from '@maestro/runtime';
import { lockConflict, lockNotHeld, validateAcquire, validateExtend, validateRelease } from './lease.js';

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

describe('lock errors', () => {
  it('LOCK_CONFLICT names the concern and its holder, as a precondition failure', () => {
    const err = lockConflict({ concern: 'port:8080', leaseId: 'L1', owner: 'exec-2' }, 500);
    expect(err.code).toBe('LOCK_CONFLICT');
    expect(err.reason).toBe('precondition');
    expect(err.message).toBe('port:8080 is held by exec-2 (lease L1) after waiting 500 ms; retry later or wait longer (wait_ms)');
  });

  it('LOCK_NOT_HELD says whether the lease is gone or someone else’s', () => {
    expect(lockNotHeld('L1', 'b', 'other_owner').message).toContain('not held by b');
    expect(lockNotHeld('L1', 'a', 'expired_or_released').message).toContain('expired or was released');
    expect(lockNotHeld('L1', 'a', 'other_owner').reason).toBe('precondition');
  });
});
