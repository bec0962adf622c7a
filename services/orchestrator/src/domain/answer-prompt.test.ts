import { AnswerPromptLimits, buildAnswerPrompt, chooseFilesToQuote, EMPTY_ANSWER, parseAnswerReply } from './answer-prompt.js';

describe('chooseFilesToQuote', () => {
  const files = ['README.md', 'src/add.js', 'src/http-client.ts', 'src/retry.ts', 'test/add.test.js', 'docs/README.md'];

  it('quotes the files the question names by path, then by name, then the top-level README', () => {
    expect(chooseFilesToQuote('What does src/add.js export?', files)).toEqual(['src/add.js', 'README.md']);
    expect(chooseFilesToQuote('How does the http-client retry?', files)).toEqual(['src/http-client.ts', 'src/retry.ts', 'README.md']);
    expect(chooseFilesToQuote('explain the retry logic', files)).toEqual(['src/retry.ts', 'README.md']);
  });

  it('quotes only the README when nothing matches, nothing when there is none', () => {
    expect(chooseFilesToQuote('what is this project about?', files)).toEqual(['README.md']);
    expect(chooseFilesToQuote('what is this?', ['src/a.js'])).toEqual([]);
  });

  it('quotes at most the limit', () => {
    const many = Array.from({ length: 20 }, (_, i) => `src/mod${i}.ts`);
    expect(chooseFilesToQuote(many.join(' '), many)).toHaveLength(AnswerPromptLimits.files);
  });
});

describe('buildAnswerPrompt', () => {
  it('puts the question, the listing, the quoted files (cut to head and tail) and the notes in the prompt', () => {
    const big = `${'a'.repeat(AnswerPromptLimits.charsPerFile)}MIDDLE${'z'.repeat(AnswerPromptLimits.charsPerFile)}`;
    const [system, user] = buildAnswerPrompt({
      question: 'What does add do?',
      project: 'calc',
      files: ['src/add.js', 'src/big.js'],
      quoted: [{ path: 'src/add.js', text: 'export function add(a, b) { return a + b; }' }, { path: 'src/big.js', text: big }],
      notes: [{ kind: 'project', content: 'calc is an ES module package' }],
    });
    expect(system?.content).toMatch(/Nothing will be changed/);
    expect(user?.content).toContain('## Question\nWhat does add do?');
    expect(user?.content).toContain('### src/add.js\n```\nexport function add(a, b) { return a + b; }\n```');
    expect(user?.content).toMatch(/characters cut/);
    expect(user?.content).not.toContain('MIDDLE');
    expect(user?.content).toContain('calc is an ES module package');
  });
});

describe('parseAnswerReply', () => {
  it('keeps an answer trimmed, cuts a huge one with a marker, and refuses an empty one as EMPTY_ANSWER', () => {
    expect(parseAnswerReply('  add returns a + b.\n')).toBe('add returns a + b.');
    const long = parseAnswerReply('x'.repeat(AnswerPromptLimits.answerChars + 10));
    expect(long.length).toBeLessThanOrEqual(AnswerPromptLimits.answerChars);
    expect(long).toMatch(/characters cut/);
    expect(() => parseAnswerReply(' \n ')).toThrow(expect.objectContaining({ code: EMPTY_ANSWER }));
  });
});
