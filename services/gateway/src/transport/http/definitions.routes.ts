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

const INVALID_PREFIX = 'definition is invalid: ';

/**
 * The engine names the request field `definition` and lists every problem as `path: message`
 * (`states.plan.on["activity.done"].target: unknown state "cod"`). Here the body is the
 * document, so the first problem's path is the field at fault.
 */
export function toDefinitionFault(err: unknown): unknown {
  const error = toMaestroError(err);
  if (!(error instanceof UserError) || error.field !== 'definition' || !error.message.startsWith(INVALID_PREFIX)) return err;
  const first = error.message.slice(INVALID_PREFIX.length).split('; ')[0] ?? '';
  const colon = first.indexOf(': ');
  const path = colon > 0 ? first.slice(0, colon) : '';
  // A problem of the whole machine (XState's own complaint) has no path.
  const field = path !== '' && !/\s/.test(path) ? path : undefined;
  return new UserError(error.code, error.message, { reason: error.reason, ...(field !== undefined ? { field } : {}), cause: err });
}

/** Registers the definition routes. */
export function registerDefinitionRoutes(app: FastifyInstance, workflow: WorkflowApi): void {
  app.get('/v1/definitions', { schema: listSchema }, async () => {
    const response = await workflow.listDefinitions({ name: '' });
    return { definitions: response.definitions.map(toDefinitionJson) };
  });

  app.get<{ Params: NameParams; Querystring: { version?: number } }>('/v1/definitions/:name', { schema: getSchema }, async (request) =>
    toDefinitionJson(await workflow.getDefinition({ name: request.params.name, version: request.query.version ?? 0 })),
  );

  app.get<{ Params: NameParams }>('/v1/definitions/:name/versions', { schema: versionsSchema }, async (request) => {
    const response = await workflow.listDefinitions({ name: request.params.name });
    if (response.definitions.length === 0) {
      throw new UserError('DEFINITION_NOT_FOUND', `definition ${request.params.name} does not exist`, { reason: 'not_found' });
    }
    return { definitions: response.definitions.map(toDefinitionJson) };
  });

  app.put<{ Params: NameParams; Body: Record<string, unknown> }>('/v1/definitions/:name', { schema: putSchema }, async (request, reply) => {
    const name = request.params.name;
    // The engine returns the latest version when the document is identical to it; comparing
    // with the latest before tells the two apart. Two identical new documents stored at the
    // same moment may both be answered 201 (both name the same version).
    const latest = await workflow.getDefinition({ name, version: 0 }).catch((err: unknown) => {
      const error = toMaestroError(err);
      if (error instanceof UserError && error.reason === 'not_found') return undefined;
      throw err;
    });
    const stored = await workflow.putDefinition({ name, definition: request.body }).catch((err: unknown) => {
      throw toDefinitionFault(err);
    });
    const created = latest === undefined || stored.version !== latest.version;
    return reply.code(created ? 201 : 200).send(toDefinitionJson(stored));
  });

  app.get<{ Params: NameParams; Querystring: DiffQuery }>('/v1/definitions/:name/diff', { schema: diffSchema }, async (request) =>
    toDefinitionDiffJson(
      await workflow.diffDefinitions({ name: request.params.name, fromVersion: request.query.from, toVersion: request.query.to }),
    ),
  );

  app.get<{ Params: NameParams; Querystring: Omit<ListRunsQuery, 'definition'> }>('/v1/definitions/:name/runs', { schema: runsSchema }, async (request) =>
    listRuns(workflow, { ...request.query, definition: request.params.name }),
  );
}
