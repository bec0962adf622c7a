import type { ChatMessage, ToolCall } from '@maestro/llm';
import { callFileOperations, commandFileOperations, fileOperationsOf, isPureRead, samePath, shellWords } from './file-operations.js';

const bash = (command: string, id = 'c1'): ToolCall => ({ id, name: 'bash', argumentsJson: JSON.stringify({ command }) });
const ops = (command: string): string[] => commandFileOperations(command).map((op) => `${op.kind} ${op.path}${op.range !== undefined && op.range !== 'full' ? ' (part)' : ''}`);

describe('shellWords', () => {
  it('splits at operators, keeps quotes together, and leaves heredoc bodies out', () => {
    expect(shellWords(`cd /testbed && sed -i 's/a b/c/' "my file.py" | head -5; echo done 2>&1`)).toEqual([
      ['cd', '/testbed'],
      ['sed', '-i', 's/a b/c/', 'my file.py', '|', 'head', '-5'],
      ['echo', 'done', '2>&', '1'],
    ]);
    expect(shellWords("cat > a.py << 'EOF'\nimport os; print(1) > 2\nEOF\npython a.py")).toEqual([['cat', '>', 'a.py', '<<', 'EOF'], ['python', 'a.py']]);
  });
});

describe('commandFileOperations', () => {
  it('reads what cat, nl, sed -n, head and tail print', () => {
    expect(ops('cat ./astropy/modeling/separable.py')).toEqual(['read astropy/modeling/separable.py']);
    expect(ops("sed -n '10,40p' src/a.py")).toEqual(['read src/a.py (part)']);
    expect(ops('head -n 50 src/a.py')).toEqual(['read src/a.py (part)']);
    expect(ops('cat src/a.py | grep def')).toEqual(['read src/a.py (part)']);
  });

  it('writes with sed -i, perl -i, redirections, tee, cp/mv targets and inline scripts', () => {
    expect(ops("sed -i 's/old/new/' /testbed/pkg/mod.py")).toEqual(['write /testbed/pkg/mod.py']);
    expect(ops("sed -i.bak -e 's/a/b/' -e 's/c/d/' x.py y.py")).toEqual(['write x.py', 'write y.py']);
    expect(ops("perl -pi -e 's/a/b/' x.py")).toEqual(['write x.py']);
    expect(ops("perl -i -pe 's/a/b/' x.py")).toEqual(['write x.py']);
    expect(ops("cat > test_fix.py << 'EOF'\nprint('hi')\nEOF")).toEqual(['write test_fix.py']);
    expect(ops('echo hi >> notes.txt 2> /dev/null')).toEqual(['write notes.txt']);
    expect(ops('echo hi | tee -a log.txt')).toEqual(['write log.txt']);
    expect(ops('cp a.py.backup a.py')).toEqual(['write a.py']);
    expect(ops("python - <<'EOF'\nwith open('pkg/mod.py', 'w') as f:\n    f.write(x)\nEOF")).toEqual(['write pkg/mod.py']);
    expect(ops(`python -c "from pathlib import Path; Path('b.txt').write_text('x')"`)).toEqual(['write b.txt']);
  });

  it('reads nothing into a search or a run', () => {
    expect(ops('grep -rn "def f" src/')).toEqual([]);
    expect(ops('python reproduce.py')).toEqual([]);
    expect(ops("open('r.py')")).toEqual([]);
  });
});

describe('callFileOperations and fileOperationsOf', () => {
  it('reads the workspace tools', () => {
    expect(callFileOperations({ id: 'r', name: 'fs.read', argumentsJson: '{"path":"./src/a.ts"}' })).toEqual([{ kind: 'read', path: 'src/a.ts', range: 'full', callId: 'r' }]);
    expect(callFileOperations({ id: 'r', name: 'fs.read', argumentsJson: '{"path":"a.ts","startLine":3}' })[0]?.range).toBe('lines 3-');
    expect(callFileOperations({ id: 'w', name: 'fs.edit', argumentsJson: '{"path":"a.ts","old_str":"a","new_str":"b"}' })).toEqual([{ kind: 'write', path: 'a.ts', callId: 'w' }]);
    expect(callFileOperations({ id: 'p', name: 'fs.apply_patch', argumentsJson: JSON.stringify({ patch: '--- a/x.ts\n+++ b/x.ts\n@@ -1 +1 @@\n-a\n+b\n' }) }).map((op) => op.path)).toEqual(['x.ts']);
    expect(callFileOperations({ id: 'e', name: 'exec', argumentsJson: JSON.stringify({ argv: ['sed', '-i', 's/a/b/', 'c.ts'] }) }).map((op) => op.path)).toEqual(['c.ts']);
  });

  it('reads edits written in the reply text', () => {
    const reply: ChatMessage = {
      role: 'assistant',
      content: 'Here is the change:\n\naider/scrape.py\n```python\n<<<<<<< SEARCH\n    return x\n=======\n    return y\n>>>>>>> REPLACE\n```\n',
    };
    expect(fileOperationsOf(reply)).toEqual([{ kind: 'write', path: 'aider/scrape.py' }]);
    expect(fileOperationsOf({ role: 'user', content: reply.content })).toEqual([]);
  });
});

describe('isPureRead and samePath', () => {
  it('tells a call that only reads from one that does more', () => {
    expect(isPureRead(bash('cd /testbed && cat a.py'))).toBe(true);
    expect(isPureRead(bash("sed -n '1,20p' a.py | grep def"))).toBe(true);
    expect(isPureRead(bash('cat a.py && python a.py'))).toBe(false);
    expect(isPureRead(bash("sed -i 's/a/b/' a.py && cat a.py"))).toBe(false);
    expect(isPureRead({ id: 'r', name: 'fs.read', argumentsJson: '{"path":"a"}' })).toBe(true);
  });

  it('matches a path under a directory', () => {
    expect(samePath('/testbed/pkg/a.py', 'pkg/a.py')).toBe(true);
    expect(samePath('pkg/a.py', 'pkg/b.py')).toBe(false);
    expect(samePath('xa.py', 'a.py')).toBe(false);
  });
});
