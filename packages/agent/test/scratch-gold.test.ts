import { compareWithGold, readGold } from './chat-history-corpus.js';
it('scratch', () => {
  const g = readGold();
  const errs = g.filter((e) => e.outcome.kind === 'error');
  console.log(errs.length, errs.map((e) => e.outcome.kind === 'error' ? e.outcome.error : '').join(' | '));
  let sr = 0, sh = 0;
  for (const e of g) if (e.outcome.kind === 'blocks') for (const b of e.outcome.blocks) b.kind === 'shell' ? sh++ : sr++;
  console.log(sr, sh);
});
