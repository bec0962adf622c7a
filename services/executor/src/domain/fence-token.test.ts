import { UserError } from '@maestro/runtime';
import { assertNotFenced, FenceErrors, formatFenceToken, parseFenceToken } from './fence-token.js';

describe('fence tokens', () => {
  it('reads and writes the blob content', () => {
    expect(parseFenceToken(undefined)).toBeUndefined();
    expect(parseFenceToken('42\n')).toBe(42);
    expect(formatFenceToken(42)).toBe('42\n');
    expect(() => parseFenceToken('forty-two')).toThrow('not a fencing token');
    expect(() => formatFenceToken(-1)).toThrow('non-negative');
  });

  it('refuses a lower token, lets an equal or higher one through', () => {
    expect(() => assertNotFenced(5, undefined)).not.toThrow();
    expect(() => assertNotFenced(5, 5)).not.toThrow();
    expect(() => assertNotFenced(6, 5)).not.toThrow();
    let error: unknown;
    try {
      assertNotFenced(4, 5);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).code).toBe(FenceErrors.fenced);
    expect((error as UserError).message).toContain('fencing token 4 is lower than 5');
  });
});
