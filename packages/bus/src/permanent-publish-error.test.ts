import { OperationalError, UnexpectedError } from '@maestro/runtime';
import { isPermanentPublishError } from './permanent-publish-error.js';

describe('isPermanentPublishError', () => {
  it('retries what NATS being away or restarting looks like', () => {
    expect(isPermanentPublishError(new OperationalError('BUS_PUBLISH_FAILED', 'could not publish to maestro.events.work.step: TIMEOUT'))).toBe(false);
    const noResponders = new Error('jetstream is not enabled');
    expect(isPermanentPublishError(new OperationalError('BUS_PUBLISH_FAILED', 'could not publish to maestro.events.work.step', { cause: noResponders }))).toBe(false);
  });

  it('gives up on a bug and on a payload over max_payload', () => {
    expect(isPermanentPublishError(new TypeError('x is undefined'))).toBe(true);
    expect(isPermanentPublishError(new UnexpectedError('UNEXPECTED', 'invariant broken'))).toBe(true);
    expect(isPermanentPublishError('a string')).toBe(true);
    const tooBig = new Error("invalid argument: 'payload' max_payload size exceeded");
    expect(isPermanentPublishError(new OperationalError('BUS_PUBLISH_FAILED', 'could not publish to maestro.events.work.step', { cause: tooBig }))).toBe(true);
  });
});
