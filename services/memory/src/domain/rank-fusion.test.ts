import { REFLEX_POLICY_DEFAULTS } from './confidence.js';
import { fuseRecall, RRF_K } from './rank-fusion.js';
import type { FusionInput } from './rank-fusion.js';
import { testMemory } from '../../test/support/test-memory.js';

const now = new Date('2030-01-01T00:00:00.000Z');
const DAY = 86_400_000;
const input = (patch: Partial<FusionInput>): FusionInput => ({
  keyword: [],
  vector: [],
  pinned: [],
  recent: [],
  limit: 10,
  now,
  policy: REFLEX_POLICY_DEFAULTS,
  ...patch,
});

describe('fuseRecall', () => {
  const a = testMemory('a');
  const b = testMemory('b');
  const c = testMemory('c');

  it('adds 1/(60 + rank) from each list, so a memory in both outranks the head of one', () => {
    const hits = fuseRecall(
      input({
        keyword: [
          { memory: a, rank: 1, tsRank: 0.5 },
          { memory: b, rank: 2, tsRank: 0.2 },
        ],
        vector: [
          { memory: c, rank: 1, similarity: 0.9 },
          { memory: b, rank: 2, similarity: 0.8 },
        ],
      }),
    );
    expect(hits.map((h) => [h.memory.id, h.keywordRank, h.vectorRank])).toEqual([
      ['b', 2, 2],
      ['a', 1, 0],
      ['c', 0, 1],
    ]);
    expect(hits[0]!.score).toBeCloseTo(2 / (RRF_K + 2), 15);
    expect(hits[0]!.why).toBe('keyword rank 2 (ts_rank 0.200); vector rank 2 (cosine 0.80)');
    // a and c tie on score: the keyword match goes first.
    expect(hits[1]!.score).toBe(hits[2]!.score);
  });

  it('multiplies by the effective confidence and says so', () => {
    const reflex = testMemory('r', { confidence: 0.6, confirmedAt: new Date(now.getTime() - 90 * DAY) });
    const [hit] = fuseRecall(input({ keyword: [{ memory: reflex, rank: 1, tsRank: 0.1 }] }));
    expect(hit!.score).toBeCloseTo((1 / 61) * 0.3, 15);
    expect(hit!.why).toBe('keyword rank 1 (ts_rank 0.100); confidence 0.30');
  });

  it('puts pinned memories first, matched or not, and counts them in the limit', () => {
    const pinnedMatch = testMemory('p1', { pinned: true, createdAt: new Date(now.getTime() - DAY) });
    const pinnedOnly = testMemory('p2', { pinned: true });
    const hits = fuseRecall(
      input({
        keyword: [
          { memory: a, rank: 1, tsRank: 0.5 },
          { memory: pinnedMatch, rank: 2, tsRank: 0.4 },
        ],
        pinned: [pinnedOnly, pinnedMatch],
        limit: 2,
      }),
    );
    expect(hits.map((h) => [h.memory.id, h.why])).toEqual([
      ['p1', 'pinned; keyword rank 2 (ts_rank 0.400)'],
      ['p2', 'pinned'],
    ]);
  });

  it('uses the recent memories only when neither list found anything', () => {
    const recent = [testMemory('new', { createdAt: new Date(now.getTime()) }), testMemory('old', { createdAt: new Date(now.getTime() - DAY) })];
    expect(fuseRecall(input({ recent })).map((h) => [h.memory.id, h.score, h.why])).toEqual([
      ['new', 0, 'recent'],
      ['old', 0, 'recent'],
    ]);
    expect(fuseRecall(input({ recent, vector: [{ memory: a, rank: 1, similarity: 0.3 }] })).map((h) => h.memory.id)).toEqual(['a']);
  });

  it('orders equal scores by recency, then id, never by input order', () => {
    const older = testMemory('z', { createdAt: new Date(now.getTime() - DAY) });
    const newer = testMemory('y', { createdAt: now });
    const hits = fuseRecall(
      input({
        vector: [{ memory: older, rank: 1, similarity: 0.5 }],
        keyword: [],
        pinned: [],
        recent: [],
      }),
    );
    expect(hits.map((h) => h.memory.id)).toEqual(['z']);
    const tied = fuseRecall(input({ vector: [{ memory: older, rank: 1, similarity: 0.5 }, { memory: newer, rank: 1, similarity: 0.5 }] }));
    expect(tied.map((h) => h.memory.id)).toEqual(['y', 'z']);
  });
});
