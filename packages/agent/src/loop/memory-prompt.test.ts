import { countTokens } from '@maestro/llm';
import { MEMORY_SECTION_TITLE, renderMemories } from './memory-prompt.js';

const memory = (id: string, kind: string, score: number, content: string) => ({ id, kind, score, content });

describe('renderMemories', () => {
  it('lists memories best score first, each with its kind, and returns exactly those it listed', () => {
    const { section, used } = renderMemories(
      [memory('m1', 'project', 0.2, 'Build with make.'), memory('m2', 'reflex', 0.9, 'In this repo, tests need TZ=UTC.'), memory('m3', 'preference', 0.5, 'use pnpm')],
      1_500,
    );
    expect(used.map((m) => m.id)).toEqual(['m2', 'm3', 'm1']);
    expect(section.split('\n')).toEqual([
      expect.stringContaining(MEMORY_SECTION_TITLE),
      '- [reflex] In this repo, tests need TZ=UTC.',
      '- [preference] use pnpm',
      '- [project] Build with make.',
    ]);
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
