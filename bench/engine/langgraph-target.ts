/**
 * The peer: LangGraph.js, a 4-node StateGraph (START → first → second → third → fourth → END)
 * compiled with `PostgresSaver` on a database of its own, invoked once per run with a thread_id
 * of its own, so every step is checkpointed to PostgreSQL. Nodes do nothing but append their
 * name. A step's latency is from one node's start to the next node's start (for the last node,
 * to the end of `invoke`), which includes the checkpoint LangGraph writes between them.
 */
import { randomUUID } from 'node:crypto';
import { Annotation, END, START, StateGraph, type LangGraphRunnableConfig } from '@langchain/langgraph';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { BENCH_STATES } from './bench-definitions.js';
import type { RunTarget } from './run-target.js';
import { nowMs } from './stats.js';

/** LangGraph's checkpoint modes: `async` (its default) writes while the next step runs, `sync` before it starts. */
export type LangGraphDurability = 'async' | 'sync';

const BenchState = Annotation.Root({
  visited: Annotation<string[]>({ reducer: (left, right) => left.concat(right), default: () => [] }),
});

/** Sets up the checkpointer's tables in the database at `databaseUrl` and returns the target. */
export async function createLangGraphTarget(databaseUrl: string, durability: LangGraphDurability): Promise<RunTarget> {
  const checkpointer = PostgresSaver.fromConnString(databaseUrl);
  await checkpointer.setup();
  const nodeStarts = new Map<string, number[]>();
  const node = (name: string) => (_state: typeof BenchState.State, config: LangGraphRunnableConfig) => {
    const threadId = String(config.configurable?.['thread_id']);
    nodeStarts.get(threadId)?.push(nowMs());
    return { visited: [name] };
  };
  const [a, b, c, d] = BENCH_STATES.map((s) => s.state) as [string, string, string, string];
  const graph = new StateGraph(BenchState)
    .addNode(a, node(a))
    .addNode(b, node(b))
    .addNode(c, node(c))
    .addNode(d, node(d))
    .addEdge(START, a)
    .addEdge(a, b)
    .addEdge(b, c)
    .addEdge(c, d)
    .addEdge(d, END)
    .compile({ checkpointer });
  const threadPrefix = `bench-${randomUUID().slice(0, 8)}`;
  return {
    name: `LangGraph.js + PostgresSaver (durability "${durability}")`,
    settings: `4-node StateGraph, PostgresSaver.fromConnString on its own database (pg pool default size), one thread_id per run, durability "${durability}"`,
    async run(index: number): Promise<number[]> {
      const threadId = `${threadPrefix}-${index}`;
      const starts: number[] = [];
      nodeStarts.set(threadId, starts);
      try {
        const out = await graph.invoke({ visited: [] }, { configurable: { thread_id: threadId }, durability });
        starts.push(nowMs());
        if (out.visited.length !== BENCH_STATES.length) throw new Error(`thread ${threadId}: visited ${out.visited.join(',')}, expected four nodes`);
      } finally {
        nodeStarts.delete(threadId);
      }
      return starts.slice(1).map((t, i) => t - starts[i]!);
    },
    async close(): Promise<void> {
      await checkpointer.end();
    },
  };
}
