import { UserError } from '@maestro/runtime';
import { parseReviewReply } from './review.js';

describe('parseReviewReply', () => {
  it('parses an approval inside a fence', () => {
    expect(parseReviewReply('```json\n{"approved": true, "summary": "multiply added, tests pass"}\n```')).toEqual({
      approved: true,
      summary: 'multiply added, tests pass',
    });
  });

  it('parses a rejection', () => {
    expect(parseReviewReply('{"approved": false, "summary": "tests fail"}').approved).toBe(false);
  });

  it('rejects a string boolean, naming the field', () => {
    expect(() => parseReviewReply('{"approved": "yes", "summary": "ok"}')).toThrow(/approved: /);
  });

  it('rejects prose, quoting it', () => {
    let error: unknown;
    try {
      parseReviewReply('Looks good to me!');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toContain('"Looks good to me!"');
  });
});
