/**
 * `/v1/memories`: the memory service's API over HTTP. Remember (`POST`), recall by relevance
 * (`GET ?project=&query=`), list a project's memories (`GET ?project=` without a query), pin,
 * edit, retire or restore (`PATCH /:id`) and forget (`DELETE /:id`). The schemas turn away
 * malformed requests; the memory service checks the rest and names the field, which the error
 * handler renames to the body's camelCase (`expires_at` → `expiresAt`).
 */
import type { FastifyInstance } from 'fastify';
import { MemoryRecallLimits } from '@maestro/contracts';
import { invalidField, notFound } from '@maestro/runtime';
import type { MemoryApi } from '../../ports.js';
import { toMemoryJson, toRecallJson } from './memories.presenters.js';
import { idParamsSchema, nonBlank, type IdParams } from './schemas.js';
import { errorResponses, memorySchema, ok, recallSchema } from './response-schemas.js';

const tags = ['memories'];
const memoryListSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['memories'],
  properties: { memories: { type: 'array', items: memorySchema } },
} as const;

/** Kinds of memory the memory service keeps. */
export const memoryKinds = ['preference', 'project', 'reflex'] as const;
type MemoryKind = (typeof memoryKinds)[number];

/** Body of `POST /v1/memories`. */
export interface RememberBody {
  project: string;
  kind: MemoryKind;
  content: string;
  tags?: string[];
  /** `project` (default), `user:<id>` or `team:<id>`. */
  scope?: string;
  pinned?: boolean;
  /** ISO-8601 time after which it is no longer recalled. */
  expiresAt?: string;
}

const rememberSchema = {
  tags,
  summary: 'Remember something for a project (memory Remember)',
  response: { 201: ok('The memory', memorySchema), ...errorResponses(400, 503) },
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['project', 'kind', 'content'],
    properties: {
      project: { type: 'string', minLength: 1, maxLength: 512, pattern: nonBlank },
      kind: { type: 'string', enum: memoryKinds },
      content: { type: 'string', minLength: 1, maxLength: 20_000, pattern: nonBlank },
      tags: { type: 'array', maxItems: 20, items: { type: 'string', minLength: 1, maxLength: 64 } },
      scope: { type: 'string', maxLength: 200 },
      pinned: { type: 'boolean' },
      expiresAt: { type: 'string', maxLength: 64 },
    },
  },
} as const;

/** Query of `GET /v1/memories`: a recall with `query`, a list without. */
export interface MemoriesQuery {
  project: string;
  query?: string;
  limit?: number;
  kind?: MemoryKind;
  /** Recall: comma-separated scopes besides `project` (`user:alice,team:core`). */
  scopes?: string;
  /** List: only this scope. */
  scope?: string;
  /** List: also retired, superseded and expired memories. */
  includeInactive?: boolean;
}

const memoriesQuerySchema = {
  tags,
  summary: 'Recall by relevance with a query (memory Recall), or list a project\'s memories without one (memory List)',
  response: { 200: ok('Recall hits, or the list', { anyOf: [recallSchema, memoryListSchema] }), ...errorResponses(400, 503) },
  querystring: {
    type: 'object',
    additionalProperties: false,
    required: ['project'],
    properties: {
      project: { type: 'string', minLength: 1, maxLength: 512, pattern: nonBlank },
      query: { type: 'string', minLength: 1, maxLength: MemoryRecallLimits.queryMaxChars, pattern: nonBlank },
      // Recall takes at most 50, a list at most 200; the memory service says which.
      limit: { type: 'integer', minimum: 1, maximum: 200 },
      kind: { type: 'string', enum: memoryKinds },
      scopes: { type: 'string', maxLength: 4_000 },
      scope: { type: 'string', maxLength: 200 },
      includeInactive: { type: 'boolean' },
    },
  },
} as const;

/**
 * Body of `POST /v1/memories/recall`: recall with the query in the body, for callers whose query
 * does not belong in a URL (a URL over Node's 16 KB header limit is refused before any route
 * runs, with no field named; a body up to the gateway's body limit gets its 400 naming `query`).
 */
export interface RecallBody {
  project: string;
  query: string;
  limit?: number;
  kind?: (typeof memoryKinds)[number];
  scopes?: string[];
}

const recallBodySchema = {
  tags,
  summary: 'Recall with the query in the body, for long queries (memory Recall)',
  response: { 200: ok('Recall hits', recallSchema), ...errorResponses(400, 503) },
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['project', 'query'],
    properties: {
      project: { type: 'string', minLength: 1, maxLength: 512, pattern: nonBlank },
      query: { type: 'string', minLength: 1, maxLength: MemoryRecallLimits.queryMaxChars, pattern: nonBlank },
      limit: { type: 'integer', minimum: 1, maximum: 50 },
      kind: { type: 'string', enum: memoryKinds },
      scopes: { type: 'array', maxItems: 20, items: { type: 'string', minLength: 1, maxLength: 200 } },
    },
  },
} as const;

/** Body of `PATCH /v1/memories/:id`: only the fields present change. */
export interface UpdateMemoryBody {
  content?: string;
  pinned?: boolean;
  /** `retired` puts it aside; `active` restores it. */
  status?: 'active' | 'retired';
  /** Replaces the tags (an empty list clears them). */
  tags?: string[];
  /** A new expiry (ISO-8601), or null to remove it. */
  expiresAt?: string | null;
}

const updateSchema = {
  tags,
  summary: 'Pin, edit, retag, retire or restore, set or clear the expiry (memory Update)',
  response: { 200: ok('The memory', memorySchema), ...errorResponses(400, 404, 503) },
  params: idParamsSchema,
  body: {
    type: 'object',
    additionalProperties: false,
    properties: {
      content: { type: 'string', minLength: 1, maxLength: 20_000, pattern: nonBlank },
      pinned: { type: 'boolean' },
      status: { type: 'string', enum: ['active', 'retired'] },
      tags: { type: 'array', maxItems: 20, items: { type: 'string', minLength: 1, maxLength: 64 } },
      expiresAt: { type: ['string', 'null'], maxLength: 64 },
    },
  },
} as const;

/** An ISO-8601 time from a request field, or an error naming it. */
function timeOf(text: string, field: string): Date {
  const time = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(time.getTime())) {
    throw invalidField(field, `must be an ISO-8601 time such as 2030-01-31T12:00:00Z, got "${text}"`);
  }
  return time;
}

/** Comma-separated scopes (`user:alice,team:core`), blanks dropped. */
function scopesOf(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Registers the memory routes. */
export function registerMemoryRoutes(app: FastifyInstance, memory: MemoryApi): void {
  app.post<{ Body: RememberBody }>('/v1/memories', { schema: rememberSchema, config: { scope: 'submit' } }, async (request, reply) => {
    const body = request.body;
    const stored = await memory.remember({ tenant: request.principal.tenant,
      project: body.project,
      kind: body.kind,
      content: body.content,
      tags: body.tags ?? [],
      scope: body.scope ?? '',
      pinned: body.pinned ?? false,
      expiresAt: body.expiresAt === undefined ? undefined : timeOf(body.expiresAt, 'expiresAt'),
    });
    return reply.code(201).send(toMemoryJson(stored));
  });

  app.get<{ Querystring: MemoriesQuery }>('/v1/memories', { schema: memoriesQuerySchema, config: { scope: 'read' } }, async (request) => {
    const q = request.query;
    // 0 and '' mean "the memory service's default" / "any" in the proto.
    if (q.query !== undefined) {
      for (const listOnly of ['scope', 'includeInactive'] as const) {
        if (q[listOnly] !== undefined) throw invalidField(listOnly, 'applies to listing (no query); to recall across scopes, use scopes');
      }
      const response = await memory.recall({ tenant: request.principal.tenant, project: q.project, query: q.query, limit: q.limit ?? 0, kind: q.kind ?? '', scopes: scopesOf(q.scopes) });
      return toRecallJson(response);
    }
    if (q.scopes !== undefined) throw invalidField('scopes', 'applies to recall (with a query); to list one scope, use scope');
    const response = await memory.list({ tenant: request.principal.tenant,
      project: q.project,
      kind: q.kind ?? '',
      limit: q.limit ?? 0,
      includeInactive: q.includeInactive ?? false,
      scope: q.scope ?? '',
    });
    return { memories: response.memories.map(toMemoryJson) };
  });

  app.post<{ Body: RecallBody }>('/v1/memories/recall', { schema: recallBodySchema, config: { scope: 'read' } }, async (request) => {
    const b = request.body;
    const response = await memory.recall({ tenant: request.principal.tenant, project: b.project, query: b.query, limit: b.limit ?? 0, kind: b.kind ?? '', scopes: b.scopes ?? [] });
    return toRecallJson(response);
  });

  app.patch<{ Params: IdParams; Body: UpdateMemoryBody }>('/v1/memories/:id', { schema: updateSchema, config: { scope: 'submit' } }, async (request) => {
    const body = request.body ?? {};
    const updated = await memory.update({ tenant: request.principal.tenant,
      id: request.params.id,
      ...(body.content !== undefined ? { content: body.content } : {}),
      ...(body.pinned !== undefined ? { pinned: body.pinned } : {}),
      ...(body.status !== undefined ? { status: body.status } : {}),
      tags: body.tags ?? [],
      setTags: body.tags !== undefined,
      ...(typeof body.expiresAt === 'string' ? { expiresAt: timeOf(body.expiresAt, 'expiresAt') } : {}),
      clearExpiry: body.expiresAt === null,
    });
    return toMemoryJson(updated);
  });

  const forgetSchema = {
    tags,
    summary: 'Forget a memory (memory Forget)',
    params: idParamsSchema,
    response: { 204: { description: 'Forgotten', type: 'null' }, ...errorResponses(400, 404, 503) },
  } as const;
  app.delete<{ Params: IdParams }>('/v1/memories/:id', { schema: forgetSchema, config: { scope: 'submit' } }, async (request, reply) => {
    const { forgotten } = await memory.forget({ tenant: request.principal.tenant, id: request.params.id });
    // The memory service's own code for a missing memory (`MemoryErrorCodes.notFound` in
    // services/memory/src/domain/memory-error-codes.ts), repeated here because the gateway never
    // imports another service: Forget answers `forgotten: false` instead of NOT_FOUND.
    if (!forgotten) throw notFound('memory', request.params.id, 'MEMORY_NOT_FOUND');
    return reply.code(204).send();
  });
}
