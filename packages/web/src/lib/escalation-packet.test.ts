import { packetView } from './escalation-packet';

describe('packetView', () => {
  it('pulls the account, failing output, diff and files out of a packet, and keeps the whole packet', () => {
    const packet = {
      reason: 'tests_failed', agentAccount: 'The test must be wrong.', failingTestOutput: 'AssertionError: 1 !== 2', lastDiff: '+export const x = 1;',
      filesChanged: ['src/x.js'], steps: 4,
    };
    const view = packetView(packet);
    expect(view).toMatchObject({ account: 'The test must be wrong.', failingOutput: 'AssertionError: 1 !== 2', diff: '+export const x = 1;', filesChanged: ['src/x.js'] });
    expect(JSON.parse(view?.json ?? '')).toEqual(packet);
  });

  it('shows nothing for an escalation without a packet, and empty parts for a packet without them', () => {
    expect(packetView(null)).toBeUndefined();
    expect(packetView(undefined)).toBeUndefined();
    expect(packetView({ reason: 'stuck' })).toMatchObject({ account: '', failingOutput: '', diff: '', filesChanged: [] });
  });
});
