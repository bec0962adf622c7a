import { countTokens } from '@maestro/llm';
import { MEMORY_SECTION_TITLE, renderMemories } from './memory-prompt.js';

const memory = (id: string, kind: string, score: number, content: string) => ({ id, kind, score, content });

describe('renderMemories', () => {
  it("lists memories in memory's order (a pinned one first, whatever its score), each with its kind, and returns exactly those it listed", () => {
    const { section, used } = renderMemories(
      [memory('pinned', 'preference', 0, 'use pnpm'), memory('m2', 'reflex', 0.9, 'In this repo, tests need TZ=UTC.'), memory('m1', 'project', 0.2, 'Build with make.')],
      1_500,
    );
    expect(used.map((m) => m.id)).toEqual(['pinned', 'm2', 'm1']);
    expect(section.split('\n')).toEqual([
      expect.stringContaining(MEMORY_SECTION_TITLE),
      '- [preference] use pnpm',
      '- [reflex] In this repo, tests need TZ=UTC.',
      '- [project] Build with make.',
    ]);
  });

  it('keeps a pinned memory (score 0, listed first by memory) when the budget cuts the rest', () => {
    const { used } = renderMemories([memory('pinned', 'project', 0, 'Never touch generated/.'), memory('best', 'reflex', 0.9, Array.from({ length: 400 }, (_, i) => `w${i}`).join(' '))], 40);
    expect(used[0]?.id).toBe('pinned');
  });

  it('stops when the budget is full, cutting the memory that did not fit when there is room for a useful part', () => {
    const long = Array.from({ length: 400 }, (_, i) => `word${i}`).join(' ');
    const { section, used } = renderMemories([memory('a', 'reflex', 3, 'Run tests with TZ=UTC.'), memory('b', 'project', 2, long), memory('c', 'project', 1, 'never listed')], 120);
    expect(used.map((m) => m.id)).toEqual(['a', 'b']);
    expect(used[1]?.content).toMatch(/^word0 word1 .* …$/);
    expect(section).toContain(`- [project] ${used[1]?.content}`);
    expect(section).not.toContain('never listed');
    const lines = section.split('\n').slice(1);
    expect(lines.reduce((sum, line) => sum + countTokens(line) + 1, 0)).toBeLessThanOrEqual(120);
  });

  it('flattens multi-line content so the prompt and the recall step quote it the same way', () => {
    const { used, section } = renderMemories([memory('a', 'project', 1, 'Commands:\n  make test\n  make lint')], 100);
    expect(used[0]?.content).toBe('Commands: make test make lint');
    expect(section).toContain('- [project] Commands: make test make lint');
  });

  it('gives no section when nothing fits or nothing was recalled', () => {
    expect(renderMemories([], 1_500)).toEqual({ section: '', used: [] });
    expect(renderMemories([memory('a', 'reflex', 1, 'Run tests with TZ=UTC before pushing anything.')], 5)).toEqual({ section: '', used: [] });
  });
});
