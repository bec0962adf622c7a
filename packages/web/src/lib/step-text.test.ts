import { isLongText, parseModelSummary, parseToolSummary } from './step-text';

describe('parseModelSummary', () => {
  it('reads a scripted reply', () => {
    expect(parseModelSummary("[scripted] scripted/demo: I'll add src/subtract.js → fs.write")).toEqual({
      scripted: true,
      provider: 'scripted',
      model: 'demo',
      reply: "I'll add src/subtract.js → fs.write",
    });
  });

  it('reads a real provider with a dotted model name', () => {
    expect(parseModelSummary('deepseek/deepseek-chat: (no text) → exec')).toMatchObject({ scripted: false, provider: 'deepseek', model: 'deepseek-chat' });
  });

  it('says undefined for other text', () => {
    expect(parseModelSummary('plan: two subtasks')).toBeUndefined();
  });
});

describe('parseToolSummary', () => {
  it('splits the arguments from the observation', () => {
    expect(parseToolSummary('exec {"argv":["node","--test"]} → exit 0', 'exec')).toEqual({ args: '{"argv":["node","--test"]}', observation: 'exit 0' });
  });

  it('keeps a summary without arguments as the observation', () => {
    expect(parseToolSummary('npm test: passed', 'tests')).toEqual({ args: '', observation: 'npm test: passed' });
  });
});

describe('isLongText', () => {
  it('is true past the limit or past six lines', () => {
    expect(isLongText('short')).toBe(false);
    expect(isLongText('x'.repeat(241))).toBe(true);
    expect(isLongText('a\nb\nc\nd\ne\nf\ng')).toBe(true);
  });
});
