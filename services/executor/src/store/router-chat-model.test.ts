import { ChatMessage, CompleteRequest, RouteDecision, Usage, type CompleteResponse } from '@maestro/contracts';
import { UnexpectedError, UserError } from '@maestro/runtime';
import { fromCompleteResponse, toCompleteRequest } from './router-chat-model.js';

const ids = { taskId: 'task-1', runId: 'run-1', subtaskId: 'sub-1' };

describe('toCompleteRequest', () => {
  it('asks the tactical role for code, with the ids the router accounts usage to', () => {
    const req = toCompleteRequest(
      {
        messages: [
          { role: 'system', content: 'you code' },
          { role: 'user', content: 'add subtract()' },
          { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'fs.read', argumentsJson: '{"path":"a.js"}' }] },
          { role: 'tool', content: 'export {}', toolCallId: 'c1', name: 'fs.read' },
        ],
        tools: [{ name: 'fs.read', description: 'read a file', parameters: { type: 'object', properties: { path: { type: 'string' } } } }],
      },
      ids,
    );
    expect(req).toMatchObject({ role: 'tactical', intent: 'code', taskId: 'task-1', runId: 'run-1', subtaskId: 'sub-1' });
    expect(req.messages[2]).toEqual({
      role: 'assistant',
      content: '',
      toolCalls: [{ id: 'c1', name: 'fs.read', argumentsJson: '{"path":"a.js"}', thoughtSignature: '' }],
      toolCallId: '',
      name: '',
      reasoning: '',
      thoughtSignature: '',
    });
    expect(req.messages[3]).toMatchObject({ role: 'tool', toolCallId: 'c1', name: 'fs.read' });
    // The request must survive the wire: encode and decode it as the router would receive it.
    const decoded = CompleteRequest.decode(CompleteRequest.encode(req).finish());
    expect(decoded.tools[0]?.parameters).toEqual({ type: 'object', properties: { path: { type: 'string' } } });
    expect(decoded.messages).toHaveLength(4);
  });
});

describe('fromCompleteResponse', () => {
  const response: CompleteResponse = {
    message: ChatMessage.fromPartial({
      role: 'assistant',
      content: '',
      toolCalls: [{ id: 'c2', name: 'fs.write', argumentsJson: '{}' }],
    }),
    decision: RouteDecision.fromPartial({ role: 'tactical', provider: 'scripted', model: 'scripted', reason: 'MAESTRO_TACTICAL_MODEL', scripted: true }),
    usage: Usage.fromPartial({ inputTokens: 120, outputTokens: 7, costUsd: 0 }),
    finishReason: 'tool_calls',
    servedBy: '',
  };

  it('gives the loop the message, the usage, and whether the reply was scripted', () => {
    expect(fromCompleteResponse(response)).toEqual({
      message: { role: 'assistant', content: '', toolCalls: [{ id: 'c2', name: 'fs.write', argumentsJson: '{}' }] },
      usage: { inputTokens: 120, outputTokens: 7 },
      scripted: true,
      provider: 'scripted',
      model: 'scripted',
    });
  });

  it('reads a reply without decision or usage as unattributed, with zero usage', () => {
    const out = fromCompleteResponse({ ...response, decision: undefined, usage: undefined });
    expect(out).toMatchObject({ scripted: false, provider: '', model: '', usage: { inputTokens: 0, outputTokens: 0 } });
  });

  it('treats a reply without a message as a router bug', () => {
    expect(() => fromCompleteResponse({ ...response, message: undefined })).toThrow(UnexpectedError);
  });

  it('rejects a message with an unknown role', () => {
    expect(() => fromCompleteResponse({ ...response, message: { ...response.message!, role: 'robot' } })).toThrow(UserError);
  });
});

describe('toCompleteRequest for a subtask Orion took over', () => {
  it('asks the strategic role, still for code', () => {
    const req = toCompleteRequest({ messages: [{ role: 'user', content: 'add divide()' }], tools: [] }, { ...ids, role: 'strategic' });
    expect(req).toMatchObject({ role: 'strategic', intent: 'code', subtaskId: 'sub-1' });
  });
});
