/**
 * The one authentication hook: every route is authenticated (`onRequest`, so before body
 * parsing and before an SSE stream writes a byte) unless it declares `config: { public: true }`
 * (health, the viewer's files, the API description). An authenticated request carries
 * `request.principal` and must hold the scope its route declares next to itself
 * (`config: { scope: 'submit' }`); a route that declares none needs `admin`, so a forgotten
 * declaration fails closed.
 */
import type { FastifyInstance } from 'fastify';
import { scopeMissing } from '../../auth/auth-errors.js';
import type { Authenticator } from '../../auth/authenticator.js';
import { grantsScope, type Principal, type Scope } from '../../auth/principal.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a caller needs for this route. @default 'admin' */
    scope?: Scope;
    /** True for routes anyone may call (they hold no data). @default false */
    public?: boolean;
  }
  interface FastifyRequest {
    /** Who the request acts for; set on every route that is not public. */
    principal: Principal;
  }
}

/** The scope of routes that do not declare one. */
export const DEFAULT_ROUTE_SCOPE: Scope = 'admin';

/** Installs the hook on `app` (the root instance, before any route). */
export function registerAuthentication(app: FastifyInstance, authenticator: Authenticator): void {
  app.decorateRequest('principal', null as unknown as Principal);
  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    if (config.public === true) return;
    const principal = await authenticator.authenticate(request.headers.authorization);
    const needed = config.scope ?? DEFAULT_ROUTE_SCOPE;
    if (!grantsScope(principal.scopes, needed)) throw scopeMissing(needed, principal.keyId);
    request.principal = principal;
  });
}
