import { o200kCounter, type ChatMessage } from '@maestro/llm';
import { RuleSummariser } from './rule-summariser.js';

const bash = (id: string, command: string): ChatMessage => ({ role: 'assistant', content: 'Reasoning that goes on and on about the plan. '.repeat(10), toolCalls: [{ id, name: 'bash', argumentsJson: JSON.stringify({ command }) }] });
const result = (id: string, content: string): ChatMessage => ({ role: 'tool', toolCallId: id, content });

/** A history of `n` turns: looking, editing and running in turn. */
function history(n: number): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (let i = 0; i < n; i++) {
    const id = `c${i}`;
    if (i % 3 === 0) out.push(bash(id, `cat src/file${i}.py`), result(id, Array.from({ length: 30 }, (_, k) => `line ${k} of file ${i}`).join('\n')));
    else if (i % 3 === 1) out.push(bash(id, `sed -i 's/old${i}/new${i}/' src/file${i}.py`), result(id, ''));
    else out.push(bash(id, `python run${i}.py`), result(id, `result ${i} first\nmiddle\nresult ${i} last`));
  }
  return out;
}

describe('RuleSummariser', () => {
  const summariser = new RuleSummariser();

  it('is by rule and keeps every action with its result when there is room', async () => {
    const { text } = await summariser.summarise(history(6), { pinned: [] });
    expect(summariser.by).toBe('rule');
    expect(text).toContain('- bash: cat src/file0.py');
    expect(text).toContain("- bash: sed -i 's/old1/new1/' src/file1.py");
    expect(text).toContain('result 2 first\n    middle\n    result 2 last');
    expect(text).not.toContain('Reasoning that goes on');
  });

  it('fits its budget: looking turns terser first, then older turns to one line, then the oldest left out with a count', () => {
    const turns = history(60);
    const full = summariser.summariseNow(turns, Number.POSITIVE_INFINITY);
    const budget = Math.floor(o200kCounter.countTokens(full) / 2);
    const half = summariser.summariseNow(turns, budget);
    expect(o200kCounter.countTokens(half)).toBeLessThanOrEqual(budget);
    // The latest runs keep their detail, older ones are down to one line, the oldest are left out.
    expect(half).toContain('result 59 first\n    middle\n    result 59 last');
    expect(half).toMatch(/^- \(\d+ earlier messages left out\)\n- (bash: .+ → |looked around: )/);
    expect(half).not.toContain('python run2.py');
    const tiny = summariser.summariseNow(turns, 150);
    expect(o200kCounter.countTokens(tiny)).toBeLessThanOrEqual(150);
    expect(tiny).toMatch(/^- \(\d+ earlier messages left out\)/);
    expect(tiny).toContain('python run59.py');
  });

  it('folds the turns that only looked around into shared one-word lines before shortening what the agent ran', () => {
    const turns = history(30);
    const full = summariser.summariseNow(turns, Number.POSITIVE_INFINITY);
    const text = summariser.summariseNow(turns, Math.floor(o200kCounter.countTokens(full) * 0.72));
    expect(text).not.toContain('earlier messages left out');
    expect(text).toContain('- looked around: cat');
    expect(text).not.toContain('cat src/file0.py');
    // What an older run printed outlasts where the agent looked.
    expect(text).toContain('result 2 first\n    middle\n    result 2 last');
    const run: ChatMessage[] = [bash('l1', 'grep -rn parse src'), result('l1', 'src/a.py:1: parse'), bash('l2', 'find . -name "*.py"'), result('l2', './a.py')];
    const folded = summariser.summariseNow([...run, ...history(30)], Math.floor(o200kCounter.countTokens(full) * 0.72));
    expect(folded).toMatch(/^- looked around: grep, find, cat\n/);
  });

  it('is deterministic', () => {
    expect(summariser.summariseNow(history(20), 300)).toBe(summariser.summariseNow(history(20), 300));
  });
});
