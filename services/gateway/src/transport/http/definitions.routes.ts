/**
 * `/v1/definitions`: workflow definitions, stored and versioned by the workflow-engine. List the
 * latest of each, read one version, list every version, store a new version (`PUT`, 201 when it
 * is new, 200 when identical to the latest), diff two versions, and list the runs pinned to one.
 */
import { UserError, toMaestroError } from '@maestro/runtime';
import type { FastifyInstance } from 'fastify';
import type { WorkflowApi } from '../../ports.js';
import { definitionDiffSchema, definitionListSchema, definitionSchema, errorResponses, ok } from './response-schemas.js';
import { listRuns, runListQueryProperties, runListResponse, type ListRunsQuery } from './runs.routes.js';
import { nameParamsSchema, type NameParams } from './schemas.js';
import { toDefinitionDiffJson, toDefinitionJson } from './workflow.presenters.js';

const tags = ['definitions'];
const version = { type: 'integer', minimum: 1 } as const;

const listSchema = {
  tags,
  summary: 'The latest version of every definition (workflow ListDefinitions)',
  response: { 200: ok('Latest versions', definitionListSchema), ...errorResponses(503) },
} as const;

const getSchema = {
  tags,
  summary: 'One version of a definition, the latest when no version is given (workflow GetDefinition)',
  params: nameParamsSchema,
  querystring: { type: 'object', additionalProperties: false, properties: { version } },
  response: { 200: ok('The definition version', definitionSchema), ...errorResponses(400, 404, 503) },
} as const;

const versionsSchema = {
  tags,
  summary: 'Every version of a definition, newest first (workflow ListDefinitions by name)',
  params: nameParamsSchema,
  response: { 200: ok('Every version', definitionListSchema), ...errorResponses(400, 404, 503) },
} as const;

const putSchema = {
  tags,
  summary: 'Store the body as a new version of the definition (workflow PutDefinition)',
  params: nameParamsSchema,
  body: { type: 'object', additionalProperties: true, description: 'The definition document (see the workflow-engine README)' },
  response: {
    201: ok('A new version was stored', definitionSchema),
    200: ok('Identical to the latest version, which is returned', definitionSchema),
    ...errorResponses(400, 503),
  },
} as const;

/** Query of `GET /v1/definitions/:name/diff`. */
interface DiffQuery {
  from: number;
  to: number;
}

const diffSchema = {
  tags,
  summary: 'What changed between two versions, as JSON-pointer paths (workflow DiffDefinitions)',
  params: nameParamsSchema,
  querystring: { type: 'object', additionalProperties: false, required: ['from', 'to'], properties: { from: version, to: version } },
  response: { 200: ok('The changes, sorted by path', definitionDiffSchema), ...errorResponses(400, 404, 503) },
} as const;

const runsSchema = {
  tags,
  summary: 'Runs pinned to this definition (and version), newest first (workflow ListRuns)',
  params: nameParamsSchema,
  querystring: { type: 'object', additionalProperties: false, properties: runListQueryProperties },
  response: { 200: runListResponse, ...errorResponses(400, 503) },
} as const;

/** The request field the engine names a document's problems under (PutDefinition `definition`). */
const DOCUMENT_FIELD = 'definition';

/**
 * The first problem's path under {@link DOCUMENT_FIELD}, as the engine writes paths
 * (validate-definition.ts `formatProblems`): `.key`, `[0]` or `["key with dots"]` steps, then `: `.
 */
const FIRST_PROBLEM_PATH = /^definition((?:\.[A-Za-z_$][A-Za-z0-9_$]*|\[\d+\]|\["(?:[^"\\]|\\.)*"\])+): /;

/** Each problem's leading `definition.` / `definition[`: the body is the document, so paths start inside it. */
const PROBLEM_PREFIX = /(^|; )definition(?:\.(?=[A-Za-z_$])|(?=\[))/g;

/**
 * The engine refuses a document with field `definition` and one `definition.<path>: message`
 * per problem, joined by `; ` (`definition.states.review.on["DONE"]: unknown state "finished"
 * (known: done, review)`). Here the body is the document, so the field at fault is the first
 * problem's path inside it (`states.review.on["DONE"]`) and every path in the message loses its
 * `definition.` prefix. A problem of the whole document (`definition: XState rejects …`) names no
 * field. Any other error is returned as it is.
 */
export function toDefinitionFault(err: unknown): unknown {
  const error = toMaestroError(err);
  if (!(error instanceof UserError) || error.field !== DOCUMENT_FIELD) return err;
  const path = FIRST_PROBLEM_PATH.exec(error.message)?.[1];
  const field = path === undefined ? undefined : path.startsWith('.') ? path.slice(1) : path;
  const message = error.message.replace(PROBLEM_PREFIX, '$1');
  return new UserError(error.code, message, { reason: error.reason, ...(field !== undefined ? { field } : {}), cause: err });
}

/** Registers the definition routes. */
export function registerDefinitionRoutes(app: FastifyInstance, workflow: WorkflowApi): void {
  app.get('/v1/definitions', { schema: listSchema, config: { scope: 'read' } }, async (request) => {
    const response = await workflow.listDefinitions({ tenant: request.principal.tenant, name: '' });
    return { definitions: response.definitions.map(toDefinitionJson) };
  });

  app.get<{ Params: NameParams; Querystring: { version?: number } }>('/v1/definitions/:name', { schema: getSchema, config: { scope: 'read' } }, async (request) =>
    toDefinitionJson(await workflow.getDefinition({ tenant: request.principal.tenant, name: request.params.name, version: request.query.version ?? 0 })),
  );

  app.get<{ Params: NameParams }>('/v1/definitions/:name/versions', { schema: versionsSchema, config: { scope: 'read' } }, async (request) => {
    const response = await workflow.listDefinitions({ tenant: request.principal.tenant, name: request.params.name });
    if (response.definitions.length === 0) {
      throw new UserError('DEFINITION_NOT_FOUND', `definition ${request.params.name} does not exist`, { reason: 'not_found' });
    }
    return { definitions: response.definitions.map(toDefinitionJson) };
  });

  app.put<{ Params: NameParams; Body: Record<string, unknown> }>('/v1/definitions/:name', { schema: putSchema, config: { scope: 'submit' } }, async (request, reply) => {
    // `created` says whether this call stored a new version (201) or the document equalled the
    // latest version, which is returned (200): one call, no race with another writer.
    const stored = await workflow.putDefinition({ tenant: request.principal.tenant, name: request.params.name, definition: request.body }).catch((err: unknown) => {
      throw toDefinitionFault(err);
    });
    return reply.code(stored.created ? 201 : 200).send(toDefinitionJson(stored));
  });

  app.get<{ Params: NameParams; Querystring: DiffQuery }>('/v1/definitions/:name/diff', { schema: diffSchema, config: { scope: 'read' } }, async (request) =>
    toDefinitionDiffJson(
      await workflow.diffDefinitions({ tenant: request.principal.tenant, name: request.params.name, fromVersion: request.query.from, toVersion: request.query.to }),
    ),
  );

  app.get<{ Params: NameParams; Querystring: Omit<ListRunsQuery, 'definition'> }>('/v1/definitions/:name/runs', { schema: runsSchema, config: { scope: 'read' } }, async (request) =>
    listRuns(workflow, request.principal.tenant, { ...request.query, definition: request.params.name }),
  );
}
