/**
 * The agent loop turns every model failure into a `failed` verdict. For the executor a router
 * outage is not the subtask's failure: the work should be handed back and tried again. This
 * wrapper remembers whether the loop's last model call failed transiently, so the worker can
 * tell the two apart after the loop. It also keeps the last call's error of any kind, so the
 * worker can tell a refusal that is not the agent's fault (the task's budget is spent) from one
 * worth escalating.
 */
import type { ChatModel, ChatModelReply, ChatModelRequest } from '@maestro/agent';
import { OperationalError, toMaestroError, type MaestroError } from '@maestro/runtime';

/** A chat model that records a transient failure (`OperationalError`) of its most recent call. */
export class TransientFailureWatch implements ChatModel {
  private lastFailure: OperationalError | undefined;
  private lastError: MaestroError | undefined;

  constructor(private readonly inner: ChatModel) {}

  async complete(request: ChatModelRequest): Promise<ChatModelReply> {
    try {
      const reply = await this.inner.complete(request);
      this.lastFailure = undefined;
      this.lastError = undefined;
      return reply;
    } catch (err) {
      const error = toMaestroError(err);
      this.lastFailure = error instanceof OperationalError ? error : undefined;
      this.lastError = error;
      throw err;
    }
  }

  /** The transient error of the last call, when the last call failed transiently; else undefined. */
  get transientFailure(): OperationalError | undefined {
    return this.lastFailure;
  }

  /** The error of the last call, of whatever kind, when the last call failed; else undefined. */
  get failure(): MaestroError | undefined {
    return this.lastError;
  }
}
