/**
 * The workflow domain, without I/O: the definition format and its validation, the registries
 * of named actions, guards and activities, and the pure step function that executes runs.
 *
 * @example
 * const definition = parseDefinition(document, defaultRegistries);
 * const started = startRunMachine({ definition, registries: defaultRegistries }, { taskId: 't1' });
 * const next = applyRunEvent({ definition, registries: defaultRegistries }, started, { type: 'activity.done', output: {} });
 */
export {
  DefinitionDocumentSchema,
  StateNodeSchema,
  StateMetaSchema,
  TransitionObjectSchema,
  NAME_PATTERN,
  MAX_ACTIVITY_TIMEOUT_MS,
  formatPath,
  type DefinitionDocument,
  type StateNode,
  type TransitionObject,
  type TransitionSpec,
} from './definition-schema.js';
export {
  builtinActions,
  builtinGuards,
  builtinActivities,
  defaultRegistries,
  type Registries,
  type ActionEntry,
  type ActionImplementation,
  type ActionParams,
  type GuardEntry,
  type ActivityEntry,
  type MachineEvent,
  type RunContext,
} from './registries.js';
export {
  validateDefinition,
  parseDefinition,
  formatProblems,
  stateOf,
  type DefinitionProblem,
  type DefinitionValidation,
} from './validate-definition.js';
export { toMachineConfig, createRunMachine, initialContext, ENTERED_ACTION } from './compile-definition.js';
export {
  startRunMachine,
  applyRunEvent,
  activityOf,
  activityTimeoutOf,
  isFinished,
  RunStatuses,
  type RunStatus,
  type RunPosition,
  type RunStep,
  type RunnableDefinition,
} from './run-machine.js';
export {
  EngineFailureCodes,
  ACTIVITY_TIMEOUT,
  ACTIVITY_REQUEST_UNPUBLISHABLE,
  CANCEL_EVENT,
  workIdOf,
  deadlineOf,
  toActivityEvent,
  checkSendableEventType,
  decideEvent,
  decideActivityResult,
  decideTimeout,
  timeoutEvent,
  cancelEvent,
  type EngineFailureCode,
  type DecidableRun,
  type TransitionDraft,
  type RunDecision,
} from './run-decision.js';
export { toRunEvent, pendingActivityOf, type RunFacts, type PendingActivity } from './run-messages.js';
export {
  diffDefinitions,
  toJsonPointer,
  escapePointerSegment,
  DefinitionChangeOps,
  type DefinitionChange,
  type DefinitionChangeOp,
} from './definition-diff.js';
export { canonicalJson, contentHash } from './canonical-json.js';
export { checkRunNote, decideNote, isNoteEvent, noteEvent, RunNoteLimits, type RunNote } from './run-note.js';
export { isUuid } from './uuid.js';
export { codingDefinition, defaultDefinitions, explainDefinition } from './default-definitions.js';
