/**
 * Checks the executor's semantics against cases of the SCION SCXML test suite (the suite XState
 * itself runs) that fit our flat subset: no nesting, parallel or history states, no scripts or
 * delays, conditions only `true`/`false`. Each SCXML machine is converted to our definition
 * format, validated, and stepped one event at a time through persisted snapshots, as the engine
 * does. The corpus is read in place (Apache-2.0, jbeard4/scxml-test-framework), never copied.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { builtinActions, builtinActivities, type Registries } from './registries.js';
import { validateDefinition } from './validate-definition.js';
import { applyRunEvent, startRunMachine, type RunPosition, type RunnableDefinition } from './run-machine.js';

// Beside the checkout, like every other corpus: <repo>/../shared/corpora.
const CORPUS = resolve(__dirname, '../../../../../shared/corpora/statecharts/scion_cases.json');

/** The cases used: every one of them must be in the corpus and convert. */
const SELECTED = [
  'basic/basic1',
  'basic/basic2',
  'cond-js/test0',
  'cond-js/test1',
  'cond-js/test2',
  'default-initial-state/initial1',
  'default-initial-state/initial2',
  'documentOrder/documentOrder0',
  'multiple-events-per-transition/test1',
];

interface ScxmlElement {
  tag: string;
  attrs?: Record<string, string>;
  children?: ScxmlElement[];
}

interface ScionCase {
  group: string;
  name: string;
  machine: ScxmlElement;
  initialConfiguration: string[];
  events: Array<{ event: { name: string }; nextConfiguration: string[] }>;
}

/** SCXML conditions become guards by name; only the two constant conditions are supported. */
const registries: Registries = {
  actions: builtinActions,
  activities: builtinActivities,
  guards: {
    'cond:true': { description: 'SCXML cond="true"', check: () => true },
    'cond:false': { description: 'SCXML cond="false"', check: () => false },
  },
};

/** Our rules require a final state; SCION's flat cases have none, so an unreachable one is added. */
const END = '__end';

function toDefinition(testCase: ScionCase): Record<string, unknown> {
  const root = testCase.machine;
  const stateElements = (root.children ?? []).filter((c) => c.tag === 'state' || c.tag === 'final');
  const states: Record<string, Record<string, unknown>> = {};
  for (const element of stateElements) {
    const id = element.attrs?.['id'];
    if (id === undefined) throw new Error(`${testCase.group}/${testCase.name}: state without id`);
    const on: Record<string, Array<Record<string, unknown>>> = {};
    const always: Array<Record<string, unknown>> = [];
    for (const t of (element.children ?? []).filter((c) => c.tag === 'transition')) {
      const transition: Record<string, unknown> = {};
      if (t.attrs?.['target'] !== undefined) transition['target'] = t.attrs['target'];
      const cond = t.attrs?.['cond'];
      if (cond !== undefined) {
        if (cond !== 'true' && cond !== 'false') throw new Error(`unsupported cond ${cond}`);
        transition['guard'] = `cond:${cond}`;
      }
      const events = t.attrs?.['event'];
      // Document order decides between transitions for one event, so lists keep it.
      if (events === undefined) always.push(transition);
      else for (const event of events.split(/\s+/).filter(Boolean)) (on[event] ??= []).push(transition);
    }
    states[id] = {
      ...(element.tag === 'final' ? { type: 'final' } : {}),
      ...(Object.keys(on).length > 0 ? { on } : {}),
      ...(always.length > 0 ? { always } : {}),
    };
  }
  states[END] = { type: 'final' };
  const first = stateElements[0]?.attrs?.['id'];
  return { id: 'scion', initial: root.attrs?.['initial'] ?? first, states };
}

const corpus = JSON.parse(readFileSync(CORPUS, 'utf8')) as { cases: ScionCase[] };

describe('SCION statechart cases (flat subset)', () => {
  it.each(SELECTED)('%s', (key) => {
    const testCase = corpus.cases.find((c) => `${c.group}/${c.name}` === key);
    expect(testCase).toBeDefined();
    const validation = validateDefinition(toDefinition(testCase!), registries);
    if (!validation.ok) throw new Error(`definition rejected: ${JSON.stringify(validation.problems)}`);
    const runnable: RunnableDefinition = { definition: validation.definition, registries };

    let position: RunPosition = startRunMachine(runnable, {});
    expect([position.state]).toEqual(testCase!.initialConfiguration);
    for (const { event, nextConfiguration } of testCase!.events) {
      position = applyRunEvent(runnable, JSON.parse(JSON.stringify(position)) as RunPosition, { type: event.name });
      expect([position.state]).toEqual(nextConfiguration);
    }
  });
});
