/**
 * A scripted {@link ChatProvider} for the resilience layer's unit tests: each call takes the
 * next step — a string answers, an error is thrown, a promise is awaited (to hold a call in
 * flight), an array is a stream (deltas, or an error thrown at that point) — and is recorded
 * with the clock's time and the model it asked for.
 */
import type { Clock } from '@maestro/runtime';
import type { ChatProvider, CompletionRequest, CompletionResult, CompletionStreamEvent } from '../src/chat-provider.js';

/** One call's scripted outcome; see the module comment. */
export type Step = string | Error | Promise<string> | Array<string | Error>;

/** The reply a string step gives. */
export function answer(content: string): CompletionResult {
  return {
    message: { role: 'assistant', content },
    usage: { inputTokens: 10, outputTokens: 2 },
    finishReason: 'stop',
    scripted: false,
  };
}

/** A request for tests where only the provider's behaviour matters. */
export const request: CompletionRequest = { model: 'ignored', messages: [{ role: 'user', content: 'hi' }], tools: [] };

/** See the module comment. */
export class StepProvider implements ChatProvider {
  readonly calls: Array<{ at: number; model: string }> = [];

  constructor(
    readonly name: string,
    private readonly steps: Step[],
    private readonly clock: Pick<Clock, 'now'> = { now: () => 0 },
  ) {}

  /** When each call reached the provider (the clock's time). */
  get callTimes(): number[] {
    return this.calls.map((c) => c.at);
  }

  /** The model each call asked for. */
  get models(): string[] {
    return this.calls.map((c) => c.model);
  }

  async complete(request: CompletionRequest): Promise<CompletionResult> {
    const step = this.next(request);
    if (step instanceof Error) throw step;
    if (Array.isArray(step)) throw new Error('a stream step was given to complete()');
    return answer(await step);
  }

  async *stream(request: CompletionRequest): AsyncGenerator<CompletionStreamEvent> {
    const step = this.next(request);
    const events = Array.isArray(step) ? step : [step instanceof Promise ? await step : step];
    let content = '';
    for (const event of events) {
      if (event instanceof Error) throw event;
      content += event;
      yield { type: 'delta', content: event };
    }
    yield { type: 'final', result: answer(content) };
  }

  private next(request: CompletionRequest): Step {
    this.calls.push({ at: this.clock.now(), model: request.model });
    const step = this.steps.shift();
    if (step === undefined) throw new Error(`${this.name} ran out of steps`);
    return step;
  }
}
