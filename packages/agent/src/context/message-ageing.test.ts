import { o200kCounter, type ChatMessage } from '@maestro/llm';
import { MessageAgeing } from './message-ageing.js';
import { MessageTokens } from './message-tokens.js';

const long = Array.from({ length: 200 }, (_, k) => `output line ${k} with a few words`).join('\n');
const echoing: ChatMessage = { role: 'assistant', content: 'Run it.\n```bash\npython run.py\n```', toolCalls: [{ id: 'a', name: 'bash', argumentsJson: JSON.stringify({ command: 'python run.py' }) }] };

describe('MessageAgeing', () => {
  const ageing = new MessageAgeing({ maxObservationTokens: 100 }, new MessageTokens(o200kCounter), o200kCounter);

  it('sends a reply without the command its text repeats, as the same object every time (the prefix cache keeps hitting)', () => {
    const sent = ageing.sent(echoing);
    expect(sent.content).toBe('Run it.');
    expect(ageing.sent(echoing)).toBe(sent);
    expect(ageing.aged(echoing)).toBe(sent);
  });

  it('cuts an aged long output, or puts the note of a superseded read in its place', () => {
    const output: ChatMessage = { role: 'tool', toolCallId: 'a', content: long };
    expect(ageing.sent(output)).toBe(output);
    expect(ageing.aged(output).content).toMatch(/\[… \d+ lines cut …\]/);
    expect(ageing.aged(output)).toBe(ageing.aged(output));
    expect(ageing.aged(output, '[output dropped: superseded]').content).toBe('[output dropped: superseded]');
  });
});
