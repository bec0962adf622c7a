/**
 * Request bodies are JSON, and only JSON. Fastify parses `text/plain` by default, which turned a
 * plain-text body into a 400 about the body's type; without that parser any body that is not
 * `application/json` is refused with 415 (error-handler.ts words it), as the API documents. Every
 * route that takes a body also documents its 413 and 415 answers in `/openapi.json`, added here
 * once rather than in each route's schema.
 */
import type { FastifyInstance, RouteOptions } from 'fastify';
import { errorResponses } from './response-schemas.js';

/** Adds the 413 and 415 responses to the schema of a route that has a body schema. */
function documentBodyErrors(route: RouteOptions): void {
  const schema = route.schema;
  if (schema?.body === undefined) return;
  const response = (schema.response ?? {}) as Record<string, unknown>;
  // A new schema object: route schemas are shared constants (`as const`), never mutated.
  route.schema = { ...schema, response: { ...errorResponses(413, 415), ...response } };
}

/**
 * Makes `app` refuse non-JSON bodies with 415 and document it; call before any route is added
 * (the documentation is added as each route is).
 */
export function acceptJsonBodiesOnly(app: FastifyInstance): void {
  app.removeContentTypeParser('text/plain');
  app.addHook('onRoute', documentBodyErrors);
}
