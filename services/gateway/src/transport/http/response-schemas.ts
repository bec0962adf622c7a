/**
 * JSON schemas of every response body, next to the route schemas that use them: with the request
 * schemas they are the one description of the HTTP API, from which `/openapi.json` is generated
 * (`openapi.ts`). They mirror the presenters field by field (objects are closed with
 * `additionalProperties: false`), and the OpenAPI walk test checks real answers against them.
 * They document; they do not serialise (app.ts keeps JSON.stringify, so nothing is dropped).
 */

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const num = { type: 'number' } as const;
const bool = { type: 'boolean' } as const;
const strings = { type: 'array', items: str } as const;
const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;
/** Any JSON object (run context, definition documents, event payloads). */
const anyObject = { type: 'object', additionalProperties: true } as const;
/** Any JSON object, or null when there is none. */
const nullableObject = { type: ['object', 'null'], additionalProperties: true } as const;
const nullableInt = { type: ['integer', 'null'] } as const;
const nullableStr = { type: ['string', 'null'] } as const;

/** A closed object whose every listed property is required. */
function closed<P extends Record<string, unknown>>(properties: P, optional: ReadonlyArray<keyof P> = []) {
  return {
    type: 'object',
    additionalProperties: false,
    required: Object.keys(properties).filter((k) => !optional.includes(k)),
    properties,
  } as const;
}

/** `{ error: { code, message, field? } }`, the body of every error (error-handler.ts). */
export const errorBodySchema = closed({
  error: closed({ code: str, message: str, field: str }, ['field']),
});

const errorDescriptions: Record<number, string> = {
  400: 'Invalid input; `field` names the request field at fault',
  401: 'No credentials, or ones that are malformed, unknown, revoked, expired or wrongly signed (UNAUTHENTICATED)',
  403: 'Authenticated without the scope this route needs (SCOPE_MISSING)',
  404: 'Unknown id',
  409: 'Refused because of the thing\'s state',
  413: 'The request body is larger than the gateway accepts',
  415: 'The request body is not JSON (content-type must be application/json)',
  503: 'An upstream service is unavailable or timed out',
};

/** The documented error responses of a route (each with the error body). */
export function errorResponses(...statuses: Array<400 | 401 | 403 | 404 | 409 | 413 | 415 | 503>): Record<number, unknown> {
  return Object.fromEntries(statuses.map((s) => [s, { description: errorDescriptions[s], ...errorBodySchema }]));
}

/** A successful JSON response with its description. */
export function ok<S extends object>(description: string, schema: S): S & { description: string } {
  return { description, ...schema };
}

/** A subtask (`SubtaskJson`). */
export const subtaskSchema = closed({
  id: str, title: str, instructions: str, files: strings, status: str, summary: str, commitSha: str,
  filesChanged: strings, failureReason: str, dependsOn: strings, resources: strings, concerns: strings,
  executorId: str, worktree: str, verdict: str,
});

/** A task (`TaskJson`). */
export const taskSchema = closed({
  id: str, tenant: str, goal: str, repoPath: str, testCommand: strings, project: str, status: str, runId: str,
  subtasks: { type: 'array', items: subtaskSchema }, failureReason: str, reviewSummary: str,
  answer: { type: 'string', description: 'The answer of a task run on the read-only `explain` workflow (labelled `[scripted reply, not a model\'s answer]` when a script gave it); \'\' otherwise.' },
  budget: closed({ usd: num, tokens: int }),
  intent: { ...closed({ intent: str, confidence: num, reason: str }), type: ['object', 'null'] },
  workflow: str,
  memoryScopes: { ...strings, description: 'Whose preferences its agents recall besides the project\'s (`user:<id>`, `team:<id>`), as submitted; [] for none.' },
  escalations: {
    type: 'array',
    items: closed({ escalationId: str, subtaskId: str, attempt: int, reason: str, decision: str, decisionReason: str, at: nullableTime, packet: nullableObject }),
  },
  delivery: { ...closed({ mode: str, branch: str, sha: str, delivered: bool, reason: str }), type: ['object', 'null'] },
  createdAt: nullableTime,
  updatedAt: nullableTime,
});

const usageTotals = {
  calls: int, inputTokens: int, cachedInputTokens: int, outputTokens: int, reasoningTokens: int,
  costUsd: num, unpricedCalls: int, scriptedCalls: int,
} as const;

/** `GET /v1/tasks/:id`: the task with its usage from the router's ledger (null + why when unavailable). */
export const taskWithUsageSchema = {
  ...taskSchema,
  required: [...taskSchema.required, 'usage', 'usageError'],
  properties: {
    ...taskSchema.properties,
    usage: {
      type: ['object', 'null'],
      additionalProperties: false,
      required: ['total', 'byPhase', 'byModel'],
      properties: {
        total: closed(usageTotals),
        byPhase: { type: 'array', items: closed({ phase: str, ...usageTotals }) },
        byModel: { type: 'array', items: closed({ model: str, ...usageTotals }) },
      },
    },
    usageError: { type: ['string', 'null'] },
  },
} as const;

/** A task in `GET /v1/tasks`: with its cost so far, or null when the router could not say. */
export const listedTaskSchema = {
  ...taskSchema,
  required: [...taskSchema.required, 'usage'],
  properties: {
    ...taskSchema.properties,
    usage: { ...closed({ usd: num, tokens: int, unpriced: bool }), type: ['object', 'null'] },
  },
} as const;

/** One history entry of a run (`TransitionJson`); `note`: a fact recorded without moving the run (an escalation raised or decided). */
export const transitionSchema = closed({
  seq: int, fromState: str, toState: str, eventType: str, event: { type: ['object', 'null'], additionalProperties: true }, at: nullableTime, note: bool,
});

const runSummaryProperties = {
  id: str, tenant: str, definitionName: str, definitionVersion: int, status: str, state: str, attempt: int,
  context: { type: ['object', 'null'], additionalProperties: true }, createdAt: nullableTime, updatedAt: nullableTime,
} as const;

/** A run as lists show it: without its history. */
export const runSummarySchema = closed(runSummaryProperties);

/** A run with its history (send-event and cancel answers). */
export const runSchema = closed({ ...runSummaryProperties, history: { type: 'array', items: transitionSchema } });

/** A model step's call (`StepModelCallJson`). */
const stepModelCallSchema = closed({
  provider: str, model: str, scripted: bool, inputTokens: int, cachedInputTokens: int, outputTokens: int, reasoningTokens: int, usd: num, priced: bool,
});

/**
 * One recorded agent step (`AgentStepJson`); `tool`, `recalled`, `condensation` only for their
 * kinds; `modelCall`, `durationMs`, `arguments`, `observation` null when the step has none.
 */
export const agentStepSchema = closed(
  {
    taskId: str, runId: str, subtaskId: str, executorId: str, step: int, kind: str, tool: str, summary: str, ok: bool,
    at: nullableTime, attempt: { type: ['integer', 'null'] },
    modelCall: { ...stepModelCallSchema, type: ['object', 'null'] },
    durationMs: nullableInt, arguments: nullableStr, observation: nullableStr,
    recalled: { type: 'array', items: closed({ id: str, kind: str, score: num, why: str, content: str }, ['why']) },
    condensation: closed(
      {
        trigger: str, tokensBefore: int, tokensAfter: int, counted: str, summarisedMessages: int, summarisedBy: str,
        dropped: strings, pinnedFacts: int, rejected: str,
      },
      ['rejected'],
    ),
  },
  ['tool', 'recalled', 'condensation'],
);

/** `GET /v1/runs/:id`: the run, its history and its agents' steps (absent when the orchestrator could not say). */
export const runWithStepsSchema = closed(
  {
    ...runSchema.properties,
    steps: { type: 'array', items: agentStepSchema },
    stepsNextAfter: str,
    stepsUnavailable: bool,
  },
  ['steps', 'stepsNextAfter'],
);

/** One stored version of a workflow definition (`DefinitionJson`). */
export const definitionSchema = closed({ name: str, tenant: str, version: int, createdAt: nullableTime, definition: anyObject });

/** `{ definitions }`, the answer of both definition lists. */
export const definitionListSchema = closed({ definitions: { type: 'array', items: definitionSchema } });

/** What changed between two definition versions (`DefinitionDiffJson`). */
export const definitionDiffSchema = closed({
  name: str,
  fromVersion: int,
  toVersion: int,
  changes: {
    type: 'array',
    items: closed({ path: str, op: { type: 'string', enum: ['added', 'removed', 'changed'] }, before: {}, after: {} }, ['before', 'after']),
  },
});

/** Leases and waiters of the lock-manager (`toLocksJson`). */
export const locksSchema = closed({
  leases: {
    type: 'array',
    items: closed({
      leaseId: str, owner: str, concerns: strings, sharedConcerns: strings,
      fencingToken: { type: 'string', pattern: '^[0-9]+$' }, expiresAt: nullableTime,
    }),
  },
  waiters: {
    type: 'array',
    items: closed({ requestId: str, owner: str, concerns: strings, sharedConcerns: strings, queuedAt: nullableTime, deadline: nullableTime }),
  },
});

/** A memory (`MemoryJson`). */
export const memorySchema = closed({
  id: str, tenant: str, project: str, kind: str, content: str, tags: strings, scope: str, pinned: bool, status: str,
  supersededBy: { type: ['string', 'null'] }, confidence: num, expiresAt: nullableTime, createdAt: nullableTime,
  updatedAt: nullableTime, topic: { type: ['string', 'null'] }, confirmations: int, author: str,
  provenance: {
    ...closed({
      taskId: str, subtaskId: str, commitSha: str, testEvidence: str, failingTests: strings, failureKind: str,
      fix: str, files: strings, confirmedBy: strings,
    }),
    type: ['object', 'null'],
  },
});

/** A recall answer (`RecallJson`); `warning` only when there is one. */
export const recallSchema = closed(
  {
    memories: {
      type: 'array',
      items: closed({
        memory: { ...memorySchema, type: ['object', 'null'] },
        score: num, why: str, keywordRank: { type: ['integer', 'null'] }, vectorRank: { type: ['integer', 'null'] },
      }),
    },
    vectorSearch: str,
    warning: str,
  },
  ['warning'],
);

/** Each model's figures per phase (`toModelStatsJson`). */
export const modelStatsSchema = closed({
  stats: {
    type: 'array',
    items: closed({
      model: str, phase: str, ...usageTotals, failedCalls: int, verdicts: int, successes: int, successRate: num,
      latencyP50Ms: num, latencyP99Ms: num,
    }),
  },
});

/** The `/healthz` body, in both the 200 and the 503 case. */
export const healthSchema = closed({
  status: { type: 'string', enum: ['ok', 'unavailable'] },
  nats: { type: 'string', enum: ['connected', 'disconnected'] },
  orchestrator: { type: 'string', enum: ['serving', 'not_serving', 'unreachable'] },
});

/** A `text/event-stream` response, documented by content type (its events are described in the README). */
export function eventStream(description: string): Record<string, unknown> {
  return { description, content: { 'text/event-stream': { schema: { type: 'string' } } } };
}
