import { extractFeatures, normalizeText, stem } from './features.js';

describe('normalizeText', () => {
  it('finds the lead word after fillers, mentions and a leading location', () => {
    const lead = (text: string): string | undefined => {
      const n = normalizeText(text);
      return n.words[n.leadIndex];
    };
    expect(lead('Ok, can you please fix the build')).toBe('fix');
    expect(lead('@claude review this')).toBe('review');
    expect(lead('in `get_ranked_tags`, refactor the loop body into a method')).toBe('refactor');
    // "can we …?" is a question, not a request: the lead stays "can".
    expect(lead('can we use the filesystem completer here?')).toBe('can');
  });

  it('splits camelCase and snake_case identifiers into words', () => {
    expect(normalizeText('rename getRepoMessages to get_repo_messages').words).toEqual([
      'rename', 'get', 'repo', 'messages', 'to', 'get', 'repo', 'messages',
    ]);
  });
});

describe('stem', () => {
  it('merges plurals and -ing forms', () => {
    expect(stem('tests')).toBe('test');
    expect(stem('testing')).toBe('test');
    expect(stem('dependencies')).toBe('dependency');
    expect(stem('class')).toBe('class');
  });
});

describe('extractFeatures', () => {
  it('fires cues from words, the lead word and phrases', () => {
    const cueNames = (text: string): string[] => extractFeatures(text).cues.map((c) => c.name);
    expect(cueNames('please fix the crash')).toEqual(expect.arrayContaining(['fix-verb', 'fix-bug']));
    expect(cueNames('TypeError: x is not a function')).toContain('fix-error');
    expect(cueNames('bump the helm chart version')).toEqual(expect.arrayContaining(['ops-deps', 'ops-deploy']));
    expect(cueNames('This KEP proposes a new field')).toContain('plan-proposal');
    expect(cueNames('what does this function return?')).toEqual(expect.arrayContaining(['explain-question', 'explain-verb']));
    // A request phrased with "could you" is not a question to answer.
    expect(cueNames('could you make the graph responsive?')).not.toContain('explain-question');
  });

  it('produces word, bigram and lead features, each once', () => {
    const { features } = extractFeatures('add tests, add tests');
    expect(features).toEqual(expect.arrayContaining(['w:add', 'w:test', 'b:add_test', 'lead:add']));
    expect(new Set(features).size).toBe(features.length);
  });
});
