import { randomUUID } from 'node:crypto';
import { isUuid } from './uuid.js';

describe('isUuid', () => {
  it('accepts canonical UUIDs in either case', () => {
    expect(isUuid(randomUUID())).toBe(true);
    expect(isUuid('0B6F7A52-4A35-4B8F-9D61-3F0A0C7E9D10')).toBe(true);
  });

  it('refuses text that is not a whole canonical UUID', () => {
    for (const text of [
      '',
      'task-1',
      '0b6f7a52-4a35-4b8f-9d61-3f0a0c7e9d1',
      '0b6f7a52-4a35-4b8f-9d61-3f0a0c7e9d100',
      '0b6f7a524a354b8f9d613f0a0c7e9d10',
      '{0b6f7a52-4a35-4b8f-9d61-3f0a0c7e9d10}',
      ' 0b6f7a52-4a35-4b8f-9d61-3f0a0c7e9d10',
      '0b6f7a52-4a35-4b8f-9d61-3f0a0c7e9d10\n',
      'zb6f7a52-4a35-4b8f-9d61-3f0a0c7e9d10',
    ]) {
      expect(isUuid(text)).toBe(false);
    }
  });
});
