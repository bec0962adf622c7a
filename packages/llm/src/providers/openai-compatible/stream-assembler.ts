/**
 * Folds `chat.completion.chunk` events into one reply, the way every server we have recordings
 * of actually streams: content and reasoning deltas; tool calls whose id and name come first and
 * whose arguments arrive in pieces, keyed by `index` (which may start at 1, and may be missing);
 * parallel calls announced in one delta; trailing empty deltas; usage on a final chunk with
 * `choices: []` (OpenAI `include_usage`), on the finish chunk (DeepSeek, Mistral), or on every
 * chunk (vLLM — the last one wins); Azure's filter chunks with no choices or no delta.
 */
import type { CompletionResult } from '../../chat-provider.js';
import type { ToolCall } from '../../messages.js';
import { ProviderErrorCodes } from '../../provider-errors.js';
import {
  argumentsTextOf,
  asRecord,
  finishReply,
  reasoningOf,
  textOf,
  thoughtSignatureOf,
  type ReplyContext,
} from './from-openai-response.js';
import { openAIProviderError } from './openai-errors.js';

/** A tool call being assembled. */
interface ToolCallSlot {
  index: number;
  id: string;
  name: string;
  argumentsJson: string;
  thoughtSignature?: string;
}

/** Collects stream chunks; {@link push} returns each content delta, {@link finish} the result. */
export class StreamAssembler {
  private content = '';
  private reasoning = '';
  private refusal = '';
  private finishReason: string | undefined;
  private usage: unknown;
  private readonly slots = new Map<number, ToolCallSlot>();
  private lastSlot: ToolCallSlot | undefined;
  private chunks = 0;

  constructor(private readonly ctx: ReplyContext) {}

  /** Adds one chunk; returns the content it added ('' when none: reasoning, tool calls, usage). */
  push(chunk: unknown): string {
    this.chunks += 1;
    const root = asRecord(chunk);
    if (root === undefined) return '';
    const usage = asRecord(root['usage']);
    if (usage !== undefined) this.usage = usage;
    const choices = Array.isArray(root['choices']) ? root['choices'] : [];
    // We ask for one choice (n = 1); servers number it 0.
    const choice = asRecord(choices.find((c) => asRecord(c)?.['index'] === 0) ?? choices[0]);
    if (choice === undefined) return '';
    const finish = choice['finish_reason'];
    // A later chunk without a reason (Azure's trailing filter chunk) must not erase it.
    if (typeof finish === 'string' && finish !== '') this.finishReason = finish;
    const delta = asRecord(choice['delta']) ?? asRecord(choice['message']);
    if (delta === undefined) return '';
    this.reasoning += reasoningOf(delta);
    if (typeof delta['refusal'] === 'string') this.refusal += delta['refusal'];
    if (Array.isArray(delta['tool_calls'])) {
      for (const [position, raw] of delta['tool_calls'].entries()) this.addToolCallDelta(raw, position);
    }
    const text = textOf(delta['content']);
    this.content += text;
    return text;
  }

  private addToolCallDelta(raw: unknown, position: number): void {
    const part = asRecord(raw);
    if (part === undefined) return;
    const id = typeof part['id'] === 'string' ? part['id'] : '';
    let slot: ToolCallSlot | undefined;
    if (typeof part['index'] === 'number') {
      slot = this.slots.get(part['index']);
      if (slot === undefined) slot = this.openSlot(part['index']);
    } else if (id !== '' && ![...this.slots.values()].some((s) => s.id === id)) {
      // No index (some gateways): a new id opens a new call …
      slot = this.openSlot(this.slots.size === 0 ? position : Math.max(...this.slots.keys()) + 1);
    } else {
      // … anything else continues the call it names, or the last one.
      slot = [...this.slots.values()].find((s) => id !== '' && s.id === id) ?? this.lastSlot ?? this.openSlot(position);
    }
    this.lastSlot = slot;
    if (slot.id === '' && id !== '') slot.id = id;
    const fn = asRecord(part['function']);
    if (fn !== undefined) {
      if (slot.name === '' && typeof fn['name'] === 'string') slot.name = fn['name'];
      slot.argumentsJson += argumentsTextOf(fn['arguments']);
    }
    const signature = thoughtSignatureOf(part);
    if (signature !== undefined) slot.thoughtSignature = signature;
  }

  private openSlot(index: number): ToolCallSlot {
    const slot: ToolCallSlot = { index, id: '', name: '', argumentsJson: '' };
    this.slots.set(index, slot);
    return slot;
  }

  /** True once a chunk carried a finish reason. */
  get finished(): boolean {
    return this.finishReason !== undefined;
  }

  /**
   * The assembled result. A stream that ended without any finish reason was cut short (the
   * SDK hides whether `[DONE]` came, so the finish reason is the proof of a complete answer):
   * `PROVIDER_STREAM_INTERRUPTED`. Refusals and filters throw as in {@link finishReply}.
   */
  finish(): CompletionResult {
    if (this.finishReason === undefined && this.refusal === '') {
      throw openAIProviderError(
        this.ctx,
        ProviderErrorCodes.streamInterrupted,
        `the ${this.ctx.provider} provider's stream ended without a finish reason after ${this.chunks} chunk(s); the answer is incomplete`,
        { chunks: this.chunks, partialContentChars: this.content.length },
      );
    }
    const toolCalls: ToolCall[] = [...this.slots.values()]
      .filter((s) => s.name !== '' || s.argumentsJson !== '')
      .sort((a, b) => a.index - b.index)
      .map((s) => {
        const call: ToolCall = { id: s.id === '' ? `call_${s.index}` : s.id, name: s.name, argumentsJson: s.argumentsJson };
        if (s.thoughtSignature !== undefined) call.thoughtSignature = s.thoughtSignature;
        return call;
      });
    return finishReply(
      {
        content: this.content,
        reasoning: this.reasoning,
        refusal: this.refusal,
        toolCalls,
        finishReason: this.finishReason,
        usage: this.usage,
      },
      this.ctx,
    );
  }
}
