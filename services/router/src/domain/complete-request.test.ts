import type { CompleteRequest } from '@maestro/contracts';
import { ChatMessage } from '@maestro/contracts';
import { planCompletion } from './complete-request.js';

const msg = (role: string, content: string, extra: Partial<{ toolCallId: string }> = {}) =>
  ChatMessage.fromPartial({ role, content, toolCallId: extra.toolCallId ?? '' });
const request = (overrides: Partial<CompleteRequest> = {}): CompleteRequest => ({
  role: '',
  intent: 'code',
  messages: [msg('user', 'hi')],
  tools: [],
  maxOutputTokens: 0,
  taskId: '',
  runId: '',
  subtaskId: '',
  budgetUsd: 0,
  budgetTokens: 0,
  attempt: 0,
  taskIntent: '',
  ...overrides,
});

describe('planCompletion', () => {
  it('converts a valid request and keeps accounting ids', () => {
    const plan = planCompletion(
      request({
        taskId: 't1',
        maxOutputTokens: 512,
        tools: [{ name: 'fs.read', description: 'read', parameters: { type: 'object' } }],
        budgetUsd: 2.5,
        budgetTokens: 10_000,
        attempt: 2,
      }),
    );
    expect(plan).toMatchObject({
      phase: 'code',
      budget: { usd: 2.5, tokens: 10_000 },
      attempt: 2,
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{ name: 'fs.read', description: 'read', parameters: { type: 'object' } }],
      maxOutputTokens: 512,
      taskId: 't1',
    });
    expect(plan.runId).toBeUndefined();
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
    ['budget_usd', request({ budgetUsd: -0.01 })],
    ['budget_tokens', request({ budgetTokens: -1 })],
    ['attempt', request({ attempt: -1 })],
  ])('names %s when it is wrong', (field, bad) => {
    expect(() => planCompletion(bad)).toThrow(expect.objectContaining({ field, reason: 'invalid' }));
  });
});
