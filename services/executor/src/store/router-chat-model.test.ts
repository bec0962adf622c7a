import { execFileSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDefaultToolRegistry, isContextTooLong, runAgentLoop, type AgentStep } from '@maestro/agent';
import { ChatMessage, CompleteRequest, RouteDecision, RouterServiceClient, RouterServiceService, Usage, type CompleteResponse } from '@maestro/contracts';
import { ProviderErrorCodes, providerError, toProtoMessage } from '@maestro/llm';
import { UnexpectedError, UserError, createGrpcClient, createGrpcServer, createSilentLogger, unary, type GrpcServer } from '@maestro/runtime';
import { RouterChatModel, fromCompleteResponse, toCompleteRequest } from './router-chat-model.js';

const ids = { taskId: 'task-1', runId: 'run-1', subtaskId: 'sub-1' };


/** Runs `body` in a fresh git repository holding a README (removed afterwards). */
async function inScratchRepo<T>(prefix: string, body: (repo: string) => Promise<T>): Promise<T> {
  const repo = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  try {
    execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: repo });
    writeFileSync(join(repo, 'README.md'), '# demo\n');
    return await body(repo);
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
}
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
      cost: { usd: 0, priced: false },
      finishReason: 'tool_calls',
    });
  });

  it("carries the provider's finish reason, so the loop can tell a malformed tool call from an answer", () => {
    const malformed = fromCompleteResponse({
      ...response,
      message: ChatMessage.fromPartial({ role: 'assistant', content: 'Malformed function call: print(' }),
      finishReason: 'malformed_tool_call',
    });
    expect(malformed).toMatchObject({ message: { role: 'assistant', content: 'Malformed function call: print(' }, finishReason: 'malformed_tool_call' });
    expect(fromCompleteResponse({ ...response, finishReason: 'length' }).finishReason).toBe('length');
  });

  it('leaves the finish reason out when the router sent none or one the loop does not know', () => {
    expect(fromCompleteResponse({ ...response, finishReason: '' })).not.toHaveProperty('finishReason');
    expect(fromCompleteResponse({ ...response, finishReason: 'content_filter' })).not.toHaveProperty('finishReason');
  });

  it('carries the cost the router priced the call at', () => {
    const out = fromCompleteResponse({ ...response, usage: Usage.fromPartial({ inputTokens: 1_000, outputTokens: 50, costUsd: 0.0125, priced: true }) });
    expect(out.cost).toEqual({ usd: 0.0125, priced: true });
  });

  it('says unpriced, with 0 usd, for a model the router has no price for', () => {
    const out = fromCompleteResponse({ ...response, usage: Usage.fromPartial({ inputTokens: 1_000, outputTokens: 50, costUsd: 0.5, priced: false }) });
    expect(out.cost).toEqual({ usd: 0, priced: false });
  });

  it('names the model that served the call when a fallback answered', () => {
    const out = fromCompleteResponse({
      ...response,
      decision: RouteDecision.fromPartial({ role: 'tactical', provider: 'gemini', model: 'gemini-2.5-pro', scripted: false }),
      servedBy: 'deepseek:deepseek-chat',
    });
    expect(out).toMatchObject({ provider: 'deepseek', model: 'deepseek-chat', scripted: false });
  });

  it('passes on cached input and reasoning tokens when the router reports them', () => {
    const cached = fromCompleteResponse({ ...response, usage: Usage.fromPartial({ inputTokens: 120, outputTokens: 7, cachedInputTokens: 100, reasoningTokens: 3 }) });
    expect(cached.usage).toEqual({ inputTokens: 120, outputTokens: 7, cachedInputTokens: 100, reasoningTokens: 3 });
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

describe('RouterChatModel over gRPC, when the provider finds the prompt too long', () => {
  // The router rethrows the provider adapter's error as it is (a UserError CONTEXT_TOO_LONG, never
  // handed to a fallback model); its gRPC server sends it as INVALID_ARGUMENT with the code in
  // the `maestro-error-code` metadata. This server answers Complete the same way, through the
  // same runtime server and client the router and the executor use.
  const tooLong = () =>
    providerError(ProviderErrorCodes.contextTooLong, "the deepseek provider rejected the prompt as too long for deepseek-chat: This model's maximum context length is 65536 tokens.", {
      provider: 'deepseek',
      status: 400,
      providerCode: 'context_length_exceeded',
    });
  let server: GrpcServer;
  let client: ReturnType<typeof createGrpcClient<RouterServiceClient>>;
  let answers: Array<() => CompleteResponse>;
  const requests: CompleteRequest[] = [];
  beforeAll(async () => {
    server = createGrpcServer({ address: '127.0.0.1:0', logger: createSilentLogger(), serviceNames: ['maestro.v1.RouterService'] });
    server.add(RouterServiceService, {
      complete: unary<CompleteRequest, CompleteResponse>(async (request) => {
        requests.push(request);
        const answer = answers.shift();
        if (answer === undefined) throw new Error('no answer scripted');
        return answer();
      }),
    });
    const port = await server.start();
    client = createGrpcClient(RouterServiceClient, `127.0.0.1:${port}`);
  });
  afterAll(async () => {
    client.close();
    await server.shutdown();
  });
  beforeEach(() => {
    requests.length = 0;
  });

  const reply = (content: string): CompleteResponse => ({
    message: toProtoMessage({ role: 'assistant', content }),
    decision: RouteDecision.fromPartial({ role: 'tactical', provider: 'deepseek', model: 'deepseek-chat', scripted: true }),
    usage: Usage.fromPartial({ inputTokens: 50, outputTokens: 5 }),
    finishReason: 'stop',
    servedBy: '',
  });

  it('rejects with a UserError of code CONTEXT_TOO_LONG, which the loop recognises', async () => {
    answers = [() => { throw tooLong(); }];
    const model = new RouterChatModel({ client: client.call, ...ids });
    const failure = await model.complete({ messages: [{ role: 'user', content: 'hi' }], tools: [] }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(UserError);
    expect(failure).toMatchObject({ code: 'CONTEXT_TOO_LONG', reason: 'invalid', message: expect.stringContaining('maximum context length') });
    expect(isContextTooLong(failure)).toBe(true);
  });

  it("makes the agent loop send a malformed tool call back to the model as a parse error, not take it as the answer", async () => {
    answers = [() => ({ ...reply('Malformed function call: print(default_api.fs_read('), finishReason: 'malformed_tool_call' }), () => reply('Nothing to change.')];
    const verdict = await inScratchRepo('maestro-router-malformed-', (repo) =>
      runAgentLoop({ model: new RouterChatModel({ client: client.call, ...ids }), tools: createDefaultToolRegistry(), workspace: repo, task: 'Look at README.md.', testCommand: [] }),
    );
    expect(verdict).toMatchObject({ status: 'succeeded', steps: 2, summary: 'Nothing to change.' });
    expect(requests).toHaveLength(2);
    expect(requests[1]?.messages.at(-1)).toMatchObject({ role: 'user', content: expect.stringMatching(/^Could not read the tool call in your reply: .*malformed_tool_call/) });
  });

  it('makes the agent loop condense and retry the turn once', async () => {
    answers = [() => { throw tooLong(); }, () => reply('Nothing to change.')];
    const steps: AgentStep[] = [];
    const verdict = await inScratchRepo('maestro-router-too-long-', (repo) =>
      runAgentLoop({
        model: new RouterChatModel({ client: client.call, ...ids }),
        tools: createDefaultToolRegistry(),
        workspace: repo,
        task: 'Look at README.md.',
        testCommand: [],
        onStep: (step) => void steps.push(step),
      }),
    );
    expect(verdict).toMatchObject({ status: 'succeeded', steps: 1, summary: 'Nothing to change.', usage: { inputTokens: 50, outputTokens: 5 } });
    expect(requests).toHaveLength(2);
    expect(steps.map((step) => step.kind)).toEqual(['condensation', 'model', 'verdict']);
    expect(steps[0]?.condensation).toMatchObject({ trigger: 'context_too_long' });
  });
});
