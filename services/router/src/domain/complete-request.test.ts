import type { CompleteRequest } from '@maestro/contracts';
import { parseModelSpec } from '@maestro/llm';
import { planCompletion } from './complete-request.js';

const models = { strategic: parseModelSpec('scripted'), tactical: parseModelSpec('scripted') };
const msg = (role: string, content: string, extra: Partial<{ toolCallId: string }> = {}) => ({
  role,
  content,
  toolCalls: [],
  toolCallId: extra.toolCallId ?? '',
  name: '',
});
const request = (overrides: Partial<CompleteRequest> = {}): CompleteRequest => ({
  role: '',
  intent: 'code',
  messages: [msg('user', 'hi')],
  tools: [],
  maxOutputTokens: 0,
  taskId: '',
  runId: '',
  subtaskId: '',
  ...overrides,
});

describe('planCompletion', () => {
  it('converts a valid request and keeps accounting ids', () => {
    const plan = planCompletion(
      request({
        taskId: 't1',
        maxOutputTokens: 512,
        tools: [{ name: 'fs.read', description: 'read', parameters: { type: 'object' } }],
      }),
      models,
    );
    expect(plan).toMatchObject({
      intent: 'code',
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{ name: 'fs.read', description: 'read', parameters: { type: 'object' } }],
      maxOutputTokens: 512,
      taskId: 't1',
    });
    expect(plan.runId).toBeUndefined();
    expect(plan.decision.role).toBe('tactical');
  });

  it.each([
    ['intent', request({ intent: 'dance' })],
    ['role', request({ role: 'boss' })],
    ['messages', request({ messages: [] })],
    ['messages[1].role', request({ messages: [msg('user', 'a'), msg('robot', 'b')] })],
    ['messages[0].tool_call_id', request({ messages: [msg('tool', 'output')] })],
    ['tools[1].name', request({ tools: [{ name: 'a', description: '', parameters: {} }, { name: 'a', description: '', parameters: {} }] })],
    ['tools[0].name', request({ tools: [{ name: '', description: '', parameters: {} }] })],
    ['max_output_tokens', request({ maxOutputTokens: -1 })],
  ])('names %s when it is wrong', (field, bad) => {
    expect(() => planCompletion(bad, models)).toThrow(expect.objectContaining({ field, reason: 'invalid' }));
  });
});
