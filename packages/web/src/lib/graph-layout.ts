/**
 * Lays out a workflow definition (XState-style JSON: `initial`, `states.<name>.on.<event>`) as a
 * graph: one node per state, one edge per transition target, in layers by distance from the
 * initial state. Also marks the path a run took (its transitions) and where it is now.
 */

/** A state as a node, with its place on the canvas. */
export interface GraphNode {
  id: string;
  label: string;
  final: boolean;
  layer: number;
  x: number;
  y: number;
}

/** A possible transition between two states. */
export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  /** The events that take it, joined (`activity.done`, `CANCEL`). */
  label: string;
}

/** A definition as nodes and edges. */
export interface GraphLayout {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** Spacing of the layout in pixels. */
export const LayoutSpacing = { column: 190, row: 110 } as const;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The targets one `on` entry (or `always` / `after` entry) names: a string, an object, or a list of either. */
function targetsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value.replace(/^[.#]/, '')];
  if (Array.isArray(value)) return value.flatMap(targetsOf);
  if (isObject(value)) {
    const target = value['target'];
    if (typeof target === 'string') return [target.replace(/^[.#]/, '')];
    if (Array.isArray(target)) return target.filter((t): t is string => typeof t === 'string').map((t) => t.replace(/^[.#]/, ''));
  }
  return [];
}

/** Every (event, target) a state declares under `on`, `always` and `after`. */
function transitionsOf(state: Json): Array<{ event: string; target: string }> {
  const found: Array<{ event: string; target: string }> = [];
  const on = state['on'];
  if (isObject(on)) for (const [event, spec] of Object.entries(on)) for (const target of targetsOf(spec)) found.push({ event, target });
  for (const target of targetsOf(state['always'])) found.push({ event: 'always', target });
  const after = state['after'];
  if (isObject(after)) for (const [delay, spec] of Object.entries(after)) for (const target of targetsOf(spec)) found.push({ event: `after ${delay}`, target });
  return found;
}

/** Lays the definition out; states unreachable from `initial` go in a last layer. Unknown targets are dropped. */
export function layoutDefinition(definition: Json): GraphLayout {
  const states = isObject(definition['states']) ? definition['states'] : {};
  const names = Object.keys(states);
  const initial = typeof definition['initial'] === 'string' && names.includes(definition['initial']) ? definition['initial'] : names[0];
  const edgesByPair = new Map<string, GraphEdge>();
  for (const source of names) {
    const state = states[source];
    if (!isObject(state)) continue;
    for (const { event, target } of transitionsOf(state)) {
      if (!names.includes(target)) continue;
      const id = `${source}->${target}`;
      const edge = edgesByPair.get(id);
      if (edge) edge.label = `${edge.label}, ${event}`;
      else edgesByPair.set(id, { id, source, target, label: event });
    }
  }
  const edges = [...edgesByPair.values()];

  // Breadth-first layers from the initial state.
  const layer = new Map<string, number>();
  if (initial !== undefined) {
    layer.set(initial, 0);
    const queue = [initial];
    while (queue.length > 0) {
      const current = queue.shift() as string;
      for (const edge of edges) {
        if (edge.source !== current || layer.has(edge.target)) continue;
        layer.set(edge.target, (layer.get(current) ?? 0) + 1);
        queue.push(edge.target);
      }
    }
  }
  const deepest = Math.max(0, ...layer.values());
  for (const name of names) if (!layer.has(name)) layer.set(name, deepest + 1);

  const perLayer = new Map<number, number>();
  const nodes = names.map((id): GraphNode => {
    const depth = layer.get(id) ?? 0;
    const index = perLayer.get(depth) ?? 0;
    perLayer.set(depth, index + 1);
    const state = states[id];
    return { id, label: id, final: isObject(state) && state['type'] === 'final', layer: depth, x: index * LayoutSpacing.column, y: depth * LayoutSpacing.row };
  });
  // Centre each layer under the widest one.
  const widest = Math.max(1, ...perLayer.values());
  for (const node of nodes) {
    const count = perLayer.get(node.layer) ?? 1;
    node.x += ((widest - count) * LayoutSpacing.column) / 2;
  }
  return { nodes, edges };
}

/** The path a run took: the states it entered and the edges it used, from its transitions. */
export interface RunPath {
  visited: Set<string>;
  edges: Set<string>;
}

/** Reads the path from a run's transitions (`fromState` → `toState`, oldest first). */
export function pathTaken(transitions: ReadonlyArray<{ fromState: string; toState: string; note?: boolean }>): RunPath {
  const visited = new Set<string>();
  const edges = new Set<string>();
  for (const t of transitions) {
    // A note (an escalation recorded in the history) is no step along the path.
    if (t.note === true) continue;
    // The initial state is only ever a `fromState` when the history starts with leaving it.
    if (t.fromState !== '') visited.add(t.fromState);
    if (t.toState !== '') visited.add(t.toState);
    if (t.fromState !== '' && t.toState !== '') edges.add(`${t.fromState}->${t.toState}`);
  }
  return { visited, edges };
}
