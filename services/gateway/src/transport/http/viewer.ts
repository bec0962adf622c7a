/**
 * Serves the viewer (the built packages/web, a single-page app) from its dist directory:
 * files as they are (`/assets/*` cached for a year, immutable: their names carry a content hash),
 * and `index.html` (never cached) for `/` and every client route (`/runs/<id>`,
 * `/runs/<id>/steps/<n>` …). API paths (`/v1/…`) never fall back: an unknown one stays a JSON 404.
 * When the dist is missing, those pages answer 503 saying how to build it.
 *
 * Routes registered elsewhere (the API, /openapi.json, /docs, /healthz) take precedence: the
 * fallback is a wildcard, which the router tries last.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@maestro/runtime';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** What a browser is told when the viewer has not been built. */
export const VIEWER_NOT_BUILT = 'viewer not built: run make build';

/** Cache-Control of hashed assets and of everything else. */
export const ViewerCache = {
  assets: 'public, max-age=31536000, immutable',
  pages: 'no-cache',
} as const;

/** Paths that are never the viewer's. */
function isApiPath(url: string): boolean {
  return url === '/v1' || url.startsWith('/v1/') || url.startsWith('/assets/');
}

/** Registers the viewer from `distDir` (its `index.html` must exist), or the 503 page when it does not. */
export function registerViewer(app: FastifyInstance, options: { distDir: string; logger: Logger }): void {
  const { distDir, logger } = options;
  if (!existsSync(join(distDir, 'index.html'))) {
    logger.warn('viewer not built; / answers 503', { distDir });
    const notBuilt = async (request: FastifyRequest, reply: FastifyReply) => {
      if (isApiPath(request.url)) return reply.callNotFound();
      return reply.code(503).type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(`${VIEWER_NOT_BUILT}\n`);
    };
    app.get('/', { schema: { hide: true }, config: { public: true } }, notBuilt);
    app.get('/*', { schema: { hide: true }, config: { public: true } }, notBuilt);
    return;
  }

  void app.register(async (instance) => {
    // The viewer's files hold no data (it asks for a key and sends it on its API calls), so
    // every route of this plugin, @fastify/static's included, is public.
    instance.addHook('onRoute', (route) => {
      route.config = { ...route.config, public: true };
    });
    // Loaded only when there is a viewer to serve (it needs an ESM-only dependency, see openapi.ts).
    const { default: fastifyStatic } = await import('@fastify/static');
    await instance.register(fastifyStatic, {
      root: distDir,
      prefix: '/',
      // One route per file found at start (the dist does not change under a running gateway),
      // so the wildcard below is left for client routes.
      wildcard: false,
      index: false,
      cacheControl: false,
      setHeaders: (reply, path) => {
        reply.header('cache-control', path.startsWith(join(distDir, 'assets')) ? ViewerCache.assets : ViewerCache.pages);
      },
    });
    const indexPage = async (request: FastifyRequest, reply: FastifyReply) => {
      if (isApiPath(request.url)) return reply.callNotFound();
      return reply.header('cache-control', ViewerCache.pages).sendFile('index.html');
    };
    instance.get('/', { schema: { hide: true } }, indexPage);
    instance.get('/*', { schema: { hide: true } }, indexPage);
  });
}
