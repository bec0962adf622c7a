import type { ChatMessage } from '@maestro/llm';
import { supersededReads } from './superseded-reads.js';

const call = (id: string, command: string): ChatMessage => ({ role: 'assistant', content: '', toolCalls: [{ id, name: 'bash', argumentsJson: JSON.stringify({ command }) }] });
const result = (id: string, content: string): ChatMessage => ({ role: 'tool', toolCallId: id, content });

describe('supersededReads', () => {
  it('notes a full read made stale by a later write or full read of the same file, and no other', () => {
    const history: ChatMessage[] = [
      { role: 'user', content: 'task' },
      call('r1', 'cat ./src/a.py'),
      result('r1', 'old content'),
      call('r2', "sed -n '1,5p' src/b.py"),
      result('r2', 'part of b'),
      call('r3', 'cat src/c.py'),
      result('r3', 'c content'),
      call('w1', "sed -i 's/x/y/' /testbed/src/a.py"),
      result('w1', ''),
      call('r4', "sed -n '1,5p' src/b.py"),
      result('r4', 'part of b again'),
      call('r5', "sed -n '6,9p' src/c.py"),
      result('r5', 'other part of c'),
    ];
    const notes = supersededReads(history);
    expect(notes.get('r1')).toBe('[output dropped: this read of src/a.py was superseded by a later write of /testbed/src/a.py]');
    expect(notes.get('r2')).toMatch(/superseded by a later read of src\/b.py/);
    expect(notes.has('r3')).toBe(false); // a later read of another part does not make it stale
    expect(notes.has('r4')).toBe(false);
    expect(notes.has('r5')).toBe(false);
  });

  it('only looks at calls from `from` on, and never at calls that did more than read', () => {
    const history: ChatMessage[] = [call('r1', 'cat a.py && python a.py'), result('r1', 'ran'), call('w', 'cat > a.py << EOF\nx\nEOF'), result('w', '')];
    expect(supersededReads(history).size).toBe(0);
    const reads: ChatMessage[] = [call('r1', 'cat a.py'), result('r1', 'x'), call('r2', 'cat a.py'), result('r2', 'x')];
    expect(supersededReads(reads).has('r1')).toBe(true);
    expect(supersededReads(reads, 2).size).toBe(0);
  });
});
