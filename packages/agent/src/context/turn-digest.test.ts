import type { ChatMessage } from '@maestro/llm';
import { describeCall, digestTurn, exitStatus, observationGist, turnKind } from './turn-digest.js';

const bash = (command: string, id = 'c1'): ChatMessage => ({ role: 'assistant', content: 'I will now think at length about this. '.repeat(20), toolCalls: [{ id, name: 'bash', argumentsJson: JSON.stringify({ command }) }] });
const result = (content: string, id = 'c1'): ChatMessage => ({ role: 'tool', toolCallId: id, content });
const OUTPUT = `<returncode>1</returncode>\n<output>\nWARNING: Running pip as the 'root' user\nstep 1\nstep 2\nstep 3\n${Array.from({ length: 20 }, (_, i) => `detail ${i}: ${'a long line of progress output '.repeat(2)}`).join('\n')}\nTypeError: bad operand\nfinal line\n</output>`;

describe('turn digests', () => {
  it('reads exit statuses', () => {
    expect(exitStatus('<returncode>2</returncode>')).toBe('2');
    expect(exitStatus('Process exited with 137')).toBe('137');
    expect(exitStatus('plain output')).toBeUndefined();
  });

  it('keeps the action and the gist of its result, and drops the prose', () => {
    const turn = [bash('python reproduce.py'), result(OUTPUT)];
    const full = digestTurn(turn, 2);
    expect(full).toContain('- bash: python reproduce.py');
    expect(full).toContain('exit 1, 26 lines');
    for (const line of ['step 1', 'step 2', 'TypeError: bad operand', 'final line', 'detail 19']) expect(full).toContain(line);
    expect(full).not.toContain('think at length');
    expect(full).not.toContain('detail 10');
    expect(full.length).toBeLessThan(900);
    expect(full).not.toContain("running pip as the 'root' user".toUpperCase());
    expect(digestTurn(turn, 1)).toBe('- bash: python reproduce.py → exit 1, 26 lines: TypeError: bad operand');
    expect(digestTurn(turn, 0)).toBe('- bash: python reproduce.py → exit 1, 26 lines');
  });

  it('quotes the first lines of code the agent wrote', () => {
    const write = bash("cat > fix.py << 'EOF'\nimport os\nimport sys\nprint(1)\nprint(2)\nprint(3)\nEOF");
    const text = describeCall(write.toolCalls?.[0] as NonNullable<ChatMessage['toolCalls']>[number], 2);
    expect(text).toContain("bash: cat > fix.py << 'EOF'");
    expect(text).toContain('import os');
    expect(text).toContain('(+3 lines)');
    expect(text).not.toContain('print(2)');
    const edit = { id: 'e', name: 'fs.edit', argumentsJson: JSON.stringify({ path: 'a.ts', old_str: 'a', new_str: 'const x = 1;\nconst y = 2;' }) };
    expect(describeCall(edit, 2)).toBe('fs.edit a.ts: 2 lines\n    const x = 1;\n    const y = 2;');
  });

  it('tells looking from editing from running', () => {
    expect(turnKind([bash('cd /testbed && grep -rn "def f" src | head -5')])).toBe('look');
    expect(turnKind([bash("sed -n '1,20p' a.py")])).toBe('look');
    expect(turnKind([bash("sed -i 's/a/b/' a.py")])).toBe('edit');
    expect(turnKind([bash('python -m pytest')])).toBe('run');
    expect(turnKind([bash('grep x a.py > out.txt')])).toBe('edit');
    expect(turnKind([{ role: 'user', content: 'please hurry' }])).toBe('talk');
  });

  it('quotes a short output whole, and a file that was only read by its ends', () => {
    expect(observationGist('<returncode>0</returncode>\n<output>\nNo FutureWarning raised\nok\n</output>', 2, true)).toBe('exit 0, 2 lines:\n    No FutureWarning raised\n    ok');
    expect(observationGist('a\nb\nc\nd\ne\nf', 2, false)).toBe('6 lines:\n    a\n    f');
  });
});
