import { assistantTurns, condensedTurnsNote } from './condensed-turns.js';

describe('assistantTurns', () => {
  it('counts one per assistant message', () => {
    expect(assistantTurns([{ role: 'system', content: 's' }, { role: 'user', content: 'u' }, { role: 'assistant', content: 'a' }, { role: 'tool', content: 't', toolCallId: 'x' }, { role: 'assistant', content: 'b' }])).toBe(2);
  });

  it('counts a condensed summary as the turns it stands for, and a note that folds none as none', () => {
    const summary = { role: 'assistant' as const, content: `${condensedTurnsNote(7)}: 15 earlier messages are summarised here]\n…` };
    const note = { role: 'assistant' as const, content: `${condensedTurnsNote(0)}; the facts pinned so far come next]` };
    expect(assistantTurns([{ role: 'user', content: 'task' }, note, summary, { role: 'assistant', content: 'latest' }])).toBe(8);
    expect(condensedTurnsNote(1)).toBe('[context condensed: 1 assistant turn');
  });

  it('reads the note only at the start of an assistant message', () => {
    expect(assistantTurns([{ role: 'user', content: condensedTurnsNote(5) }, { role: 'assistant', content: `quoted: ${condensedTurnsNote(5)}` }])).toBe(1);
  });
});
