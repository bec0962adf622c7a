import { constraintSentences } from './constraint-sentences.js';

describe('constraintSentences', () => {
  it('finds requirements and prohibitions, sentence by sentence, outside code', () => {
    const task = [
      '## Important Boundaries',
      '- MODIFY: Regular source code files in /testbed',
      '- DO NOT MODIFY: Tests, configuration files (pyproject.toml, setup.cfg, etc.)',
      'The function is slow. It should return an empty list for empty input. Thanks!',
      '```python',
      '# this should not be read',
      '```',
      'Never commit generated files.',
    ].join('\n');
    expect(constraintSentences(task)).toEqual([
      'DO NOT MODIFY: Tests, configuration files (pyproject.toml, setup.cfg, etc.)',
      'It should return an empty list for empty input.',
      'Never commit generated files.',
    ]);
  });

  it('keeps each sentence once and cuts a long one', () => {
    expect(constraintSentences('You must use pnpm.\nYou must use pnpm.')).toEqual(['You must use pnpm.']);
    expect(constraintSentences(`You must ${'really '.repeat(100)}care.`)[0]).toHaveLength(300);
  });
});
