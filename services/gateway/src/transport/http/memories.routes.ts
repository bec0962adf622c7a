/**
 * `/v1/memories`: store a memory and recall memories by relevance (the memory service's API).
 */
import type { FastifyInstance } from 'fastify';
import type { MemoryApi } from '../../ports.js';
import { toMemoryJson, toScoredMemoryJson } from './presenters.js';
import { nonBlank } from './schemas.js';

/** Kinds of memory the memory service keeps. */
export const memoryKinds = ['preference', 'project', 'reflex'] as const;

/** Body of `POST /v1/memories`. */
export interface RememberBody {
  project: string;
  kind: (typeof memoryKinds)[number];
  content: string;
  tags?: string[];
}

const rememberSchema = {
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['project', 'kind', 'content'],
    properties: {
      project: { type: 'string', minLength: 1, maxLength: 200, pattern: nonBlank },
      kind: { type: 'string', enum: memoryKinds },
      content: { type: 'string', minLength: 1, maxLength: 20_000, pattern: nonBlank },
      tags: { type: 'array', maxItems: 32, items: { type: 'string', minLength: 1, maxLength: 100 } },
    },
  },
} as const;

/** Query of `GET /v1/memories`. */
export interface RecallQuery {
  project: string;
  query: string;
  limit?: number;
  kind?: (typeof memoryKinds)[number];
}

const recallSchema = {
  querystring: {
    type: 'object',
    additionalProperties: false,
    required: ['project', 'query'],
    properties: {
      project: { type: 'string', minLength: 1, maxLength: 200, pattern: nonBlank },
      query: { type: 'string', minLength: 1, maxLength: 2000, pattern: nonBlank },
      limit: { type: 'integer', minimum: 1, maximum: 50 },
      kind: { type: 'string', enum: memoryKinds },
    },
  },
} as const;

/** Registers the memory routes. */
export function registerMemoryRoutes(app: FastifyInstance, memory: MemoryApi): void {
  app.post<{ Body: RememberBody }>('/v1/memories', { schema: rememberSchema }, async (request, reply) => {
    const { project, kind, content, tags } = request.body;
    const stored = await memory.remember({ project, kind, content, tags: tags ?? [] });
    return reply.code(201).send(toMemoryJson(stored));
  });

  app.get<{ Querystring: RecallQuery }>('/v1/memories', { schema: recallSchema }, async (request) => {
    const { project, query, limit, kind } = request.query;
    // 0 and '' mean "the memory service's default" / "any kind" in the proto.
    const response = await memory.recall({ project, query, limit: limit ?? 0, kind: kind ?? '' });
    return { memories: response.memories.map(toScoredMemoryJson) };
  });
}
