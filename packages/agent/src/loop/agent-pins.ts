/**
 * What the agent pinned with `context.pin`, kept in the run's pinned facts (kind `agent`, seen
 * in the tool's answer, which goes into the history next).
 */
import { PinnedFactKinds } from '../context/context-types.js';
import type { PinnedFacts } from '../context/pinned-facts.js';
import type { AgentPinSink } from './pin-tool.js';

/** See the module comment. */
export class AgentPins implements AgentPinSink {
  private readonly pinned: string[] = [];

  /** `nextHistoryIndex`: where the next message will sit in the history (the tool's answer, which quotes the fact). */
  constructor(
    private readonly facts: PinnedFacts,
    private readonly nextHistoryIndex: () => number,
  ) {}

  agentPins(): readonly string[] {
    return this.pinned;
  }

  pin(fact: string): void {
    this.pinned.push(fact);
    this.facts.pin(PinnedFactKinds.agent, fact, this.nextHistoryIndex());
  }
}
