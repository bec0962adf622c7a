import type { ChatMessage } from '@maestro/llm';
import { withoutCommandEcho } from './command-echo.js';

const reply = (content: string, ...commands: string[]): ChatMessage => ({
  role: 'assistant',
  content,
  toolCalls: commands.map((command, i) => ({ id: `c${i}`, name: 'bash', argumentsJson: JSON.stringify({ command }) })),
});

describe('withoutCommandEcho', () => {
  it('drops the fenced blocks that repeat a call’s command and keeps the prose', () => {
    const script = "cat > repro.py << 'EOF'\nprint('hi')\nEOF\npython repro.py";
    const message = reply(`Let me reproduce it first.\n\n\`\`\`bash\n${script}\n\`\`\`\n\nThen I will read the traceback.`, script);
    const sent = withoutCommandEcho(message);
    expect(sent.content).toBe('Let me reproduce it first.\n\nThen I will read the traceback.');
    expect(sent.toolCalls).toBe(message.toolCalls);
  });

  it('keeps blocks that differ from every command (code shown, a different command)', () => {
    const message = reply('The fix:\n```python\nreturn []\n```\nand I run:\n```bash\npytest -x tests\n```', 'pytest -x');
    expect(withoutCommandEcho(message)).toBe(message);
  });

  it('drops each repeated command when a reply makes several calls', () => {
    const message = reply('```bash\nls\n```\n```bash\ngit status\n```', 'ls', 'git status');
    expect(withoutCommandEcho(message).content).toBe('');
  });

  it('leaves replies without calls alone: their text is all the model said', () => {
    const message: ChatMessage = { role: 'assistant', content: '```bash\nls\n```' };
    expect(withoutCommandEcho(message)).toBe(message);
  });
});
