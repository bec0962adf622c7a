import { ChatMessage as ProtoChatMessage, ToolSpec as ProtoToolSpec } from '@maestro/contracts';
import { UserError } from '@maestro/runtime';
import { fromProtoMessage, fromProtoMessages, fromProtoToolSpec, toProtoMessage, toProtoToolSpec, type ChatMessage, type ToolSpec } from './messages.js';

describe('proto conversions', () => {
  it('round-trips messages through the wire encoding', () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: 'be brief' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'fs.read', argumentsJson: '{"path":"a"}' }] },
      { role: 'tool', content: 'file text', toolCallId: 'c1', name: 'fs.read' },
    ];
    const wire = messages.map((m) => ProtoChatMessage.decode(ProtoChatMessage.encode(toProtoMessage(m)).finish()));
    expect(fromProtoMessages(wire)).toEqual(messages);
  });

  it('carries tool parameters as a JSON object through google.protobuf.Struct', () => {
    const spec: ToolSpec = {
      name: 'fs.write',
      description: 'write a file',
      parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
    };
    const wire = ProtoToolSpec.decode(ProtoToolSpec.encode(toProtoToolSpec(spec)).finish());
    expect(fromProtoToolSpec(wire)).toEqual(spec);
  });

  it('names the bad message when a role is unknown', () => {
    const wire = [toProtoMessage({ role: 'user', content: 'hi' }), { ...toProtoMessage({ role: 'user', content: 'x' }), role: 'robot' }];
    expect(() => fromProtoMessages(wire)).toThrow(UserError);
    expect(() => fromProtoMessages(wire)).toThrow('messages[1].role: must be one of system, user, assistant, tool, got "robot"');
    expect(() => fromProtoMessage(wire[1] as ProtoChatMessage)).toThrow(expect.objectContaining({ field: 'message.role' }));
  });
});
