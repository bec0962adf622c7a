import { UserError } from '@maestro/runtime';
import { decodeRunPageToken, encodeRunPageToken } from './run-page-token.js';

const RUN = '00000000-0000-4000-8000-00000000000a';

function rejection(fn: () => unknown): UserError {
  try {
    fn();
  } catch (err) {
    return err as UserError;
  }
  throw new Error('expected a rejection');
}

describe('ListRuns page tokens', () => {
  it('round-trip the run to continue after, for the same filters', () => {
    const filters = { status: 'running', definitionName: 'coding', definitionVersion: 2 };
    const token = encodeRunPageToken(RUN, filters);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeRunPageToken(token, { ...filters })).toBe(RUN);
    expect(decodeRunPageToken(encodeRunPageToken(RUN, {}), {})).toBe(RUN);
  });

  it('reject a token issued for other filters', () => {
    const err = rejection(() => decodeRunPageToken(encodeRunPageToken(RUN, { status: 'running' }), { status: 'done' }));
    expect(err).toBeInstanceOf(UserError);
    expect(err.field).toBe('page_token');
    expect(err.message).toMatch(/^page_token: was issued for other filters/);
  });

  it('reject anything that is not a token', () => {
    for (const token of ['garbage', Buffer.from('{"a":"x","f":[]}').toString('base64url'), Buffer.from('[]').toString('base64url')]) {
      expect(rejection(() => decodeRunPageToken(token, {})).field).toBe('page_token');
    }
  });
});
