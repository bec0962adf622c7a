import { extractTextToolCalls } from './text-tool-calls.js';

const calls = (reply: string, ignoreBlocks?: string[]) => {
  const found = extractTextToolCalls(reply, ignoreBlocks ? { ignoreBlocks } : {});
  if (!found.ok) throw new Error(`unexpected failure: ${found.message}`);
  return found.calls;
};

describe('extractTextToolCalls', () => {
  it('reads the accepted shapes from fences, tags and bare lines, in reply order', () => {
    const reply = [
      'First I look at the file.',
      '```json',
      '{"tool": "fs.read", "arguments": {"path": "a.ts"}}',
      '```',
      '<tool_call>',
      '{"name": "fs_list", "parameters": {"recursive": true}}',
      '</tool_call>',
      'Then:',
      '{"type": "function", "function": {"name": "exec", "arguments": "{\\"argv\\": [\\"node\\", \\"--test\\"]}"}}',
      '```',
      '[{"tool": "git.status"}, {"name": "git.diff", "input": {"staged": true}}]',
      '```',
    ].join('\n');
    expect(calls(reply)).toEqual([
      { name: 'fs.read', argumentsJson: '{"path":"a.ts"}', repaired: false },
      { name: 'fs_list', argumentsJson: '{"recursive":true}', repaired: false },
      { name: 'exec', argumentsJson: '{"argv": ["node", "--test"]}', repaired: false },
      { name: 'git.status', argumentsJson: '{}', repaired: false },
      { name: 'git.diff', argumentsJson: '{"staged":true}', repaired: false },
    ]);
  });

  it('repairs malformed JSON: trailing commas, single quotes, a call cut off at the end', () => {
    expect(calls('```json\n{"tool": "fs.read", "arguments": {"path": "a.ts",},}\n```')).toEqual([
      { name: 'fs.read', argumentsJson: '{"path":"a.ts"}', repaired: true },
    ]);
    expect(calls("Reading it.\n{'tool': 'fs.read', 'arguments': {'path': 'a.ts'}}")).toEqual([{ name: 'fs.read', argumentsJson: '{"path":"a.ts"}', repaired: true }]);
    expect(calls('<tool_call>\n{"name": "fs.read", "arguments": {"path": "a.ts"')).toEqual([{ name: 'fs.read', argumentsJson: '{"path":"a.ts"}', repaired: true }]);
  });

  it('leaves other JSON, JSON inside edits, and prose alone', () => {
    expect(calls('Here is the config:\n```json\n{"name": "demo", "version": "1.0.0", "scripts": {}}\n```')).toEqual([]);
    expect(calls('The schema: {"name": "x", "arguments": {}} is what I mean.')).toEqual([]);
    expect(calls('```json\n{"type": "object", "name": "x", "parameters": {}}\n```')).toEqual([]);
    const wholeFile = '{"tool": "fs.read", "arguments": {"path": "fixture"}}';
    expect(calls(`fixtures/call.json\n\`\`\`json\n${wholeFile}\n\`\`\``, [wholeFile])).toEqual([]);
    const searchReplace = ['config.json', '<<<<<<< SEARCH', '{"name": "x",', '=======', '{"name": "y", "arguments": [', '>>>>>>> REPLACE'].join('\n');
    expect(calls(searchReplace)).toEqual([]);
    expect(calls('All done, the tests pass.')).toEqual([]);
  });

  it('explains a call it cannot read, with the line and the spot', () => {
    const found = extractTextToolCalls('I will read it.\n\n```json\n{"tool": "fs.read", "arguments": {"path" ]}\n```');
    expect(found.ok).toBe(false);
    if (found.ok) return;
    expect(found.message).toBe(
      [
        'Could not read the tool call in your reply (line 4): it is not valid JSON even after repair: Colon expected at line 1, column 42 of the call:',
        '  …"tool": "fs.read", "arguments": {"path" ]}',
        '                                           ^',
        'Nothing from this reply was run or applied. Send the call again as one JSON object, e.g. {"tool": "fs.read", "arguments": {"path": "src/app.ts"}}, or use native tool calls.',
      ].join('\n'),
    );
  });
});
