import { grantsScope, isScope } from './principal.js';

describe('grantsScope', () => {
  it('lets admin imply submit and read, and submit imply read', () => {
    expect(grantsScope(['admin'], 'submit')).toBe(true);
    expect(grantsScope(['admin'], 'read')).toBe(true);
    expect(grantsScope(['submit'], 'read')).toBe(true);
  });

  it('never lets a weaker scope stand for a stronger one', () => {
    expect(grantsScope(['read'], 'submit')).toBe(false);
    expect(grantsScope(['read', 'submit'], 'admin')).toBe(false);
    expect(grantsScope([], 'read')).toBe(false);
  });

  it('knows only the three scope names', () => {
    expect(['read', 'submit', 'admin'].every(isScope)).toBe(true);
    expect(isScope('maestro:read')).toBe(false);
    expect(isScope('Admin')).toBe(false);
  });
});
