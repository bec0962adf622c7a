import { o200kCounter, type ChatMessage } from '@maestro/llm';
import { MessageAgeing } from './message-ageing.js';
import { MessageTokens } from './message-tokens.js';
import { ObservationCuts } from './observation-cuts.js';

const call = (id: string, command: string): ChatMessage => ({ role: 'assistant', content: '', toolCalls: [{ id, name: 'bash', argumentsJson: JSON.stringify({ command }) }] });
const result = (id: string, content: string): ChatMessage => ({ role: 'tool', toolCallId: id, content });
const long = Array.from({ length: 200 }, (_, k) => `output line ${k} with a few words`).join('\n');

describe('ObservationCuts', () => {
  const history: ChatMessage[] = [
    { role: 'user', content: 'task' },
    call('a', 'cat a.py'),
    result('a', long),
    call('b', 'python run.py'),
    result('b', long),
    call('c', "sed -i 's/x/y/' a.py"),
    result('c', ''),
    { role: 'user', content: `The tests failed:\n${long}` },
  ];
  const cuts = new ObservationCuts(history, 1, { keepRecentObservations: 2 }, new MessageAgeing({ maxObservationTokens: 100 }, new MessageTokens(o200kCounter), o200kCounter));

  it('keeps the last results whole, and messages that are not results as they are', () => {
    expect([...cuts.recent]).toEqual([6, 7]);
    expect(cuts.kept(7)).toBe(history[7]);
    expect(cuts.kept(1)).toBe(history[1]);
  });

  it('notes a stale read and cuts an old long output, saying what it did', () => {
    expect(cuts.kept(2).content).toBe('[output dropped: this read of a.py was superseded by a later write of a.py]');
    expect(cuts.describe(2, cuts.kept(2))).toBe('bash: cat a.py (superseded by a later read or write of the same file)');
    const cut = cuts.kept(4);
    expect(cut.toolCallId).toBe('b');
    expect(cut.content).toMatch(/^output line 0 with a few words\n[\s\S]*\[… \d+ lines cut …\][\s\S]*output line 199 with a few words$/);
    expect(cuts.describe(4, cut)).toMatch(/^bash: python run.py: output cut to head and tail \(\d+ lines cut\)$/);
  });

  it('cuts the recent ones too when asked (the last resort)', () => {
    expect(cuts.kept(7, true).content).toMatch(/\[… \d+ lines cut …\]/);
  });
});
