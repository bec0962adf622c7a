/**
 * `/v1/keys`: create, list and revoke the API keys of the caller's tenant (scope admin). A new
 * key's secret is shown once, in the answer to its creation; only its hash is stored. Only the
 * operator (the configured bootstrap key) may create or see keys of other tenants.
 */
import type { Clock, Logger } from '@maestro/runtime';
import { UserError, notFound, processSecrets } from '@maestro/runtime';
import type { FastifyInstance } from 'fastify';
import { generateApiKey, hashSecret } from '../../auth/api-key.js';
import type { ApiKeyRecord, ApiKeyStore } from '../../auth/api-key-store.js';
import { AuthError, AuthErrorCodes } from '../../auth/auth-errors.js';
import { allScopes, type Principal, type Scope } from '../../auth/principal.js';
import { TENANT_PATTERN, TENANT_RULE } from '../../auth/tenant-name.js';
import type { KeyRevocations } from '../../ports.js';
import { explainPattern } from './error-handler.js';
import { nonBlank } from './schemas.js';
import { errorResponses, ok } from './response-schemas.js';

const tags = ['keys'];
const admin = { scope: 'admin' } as const;

/** Body of `POST /v1/keys`. */
export interface CreateKeyBody {
  name: string;
  scopes: Scope[];
  tenant?: string;
}

const keyIdPattern = explainPattern('^[A-Za-z0-9_-]{12}$', 'must be a key id: the 12 characters after mk_');
const tenantPattern = explainPattern(TENANT_PATTERN, TENANT_RULE);

const str = { type: 'string' } as const;
const time = { type: 'string', format: 'date-time' } as const;
const scopesSchema = { type: 'array', items: { type: 'string', enum: allScopes } } as const;

/** A key as lists show it: never its secret or hash. */
const keySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'tenant', 'scopes', 'createdAt'],
  properties: { id: str, name: str, tenant: str, scopes: scopesSchema, createdAt: time, revokedAt: time, lastUsedAt: time },
} as const;

const createSchema = {
  tags,
  summary: 'Create an API key; the answer holds the key itself, shown this once',
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'scopes'],
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 100, pattern: nonBlank },
      scopes: { type: 'array', minItems: 1, maxItems: 3, uniqueItems: true, items: { type: 'string', enum: allScopes } },
      // Another tenant than the caller's: the operator only.
      tenant: { type: 'string', pattern: tenantPattern },
    },
  },
  response: {
    201: ok('The new key; `key` is its full secret, shown only here', {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'key', 'name', 'tenant', 'scopes', 'createdAt'],
      properties: { id: str, key: str, name: str, tenant: str, scopes: scopesSchema, createdAt: time },
    }),
    ...errorResponses(400, 413, 415, 503),
  },
} as const;

const listSchema = {
  tags,
  summary: 'The API keys of the caller\'s tenant (every tenant\'s for the operator), oldest first',
  response: {
    200: ok('The keys, without their secrets', {
      type: 'object',
      additionalProperties: false,
      required: ['keys'],
      properties: { keys: { type: 'array', items: keySchema } },
    }),
    ...errorResponses(503),
  },
} as const;

const revokeSchema = {
  tags,
  summary: 'Revoke an API key; it is refused from then on, and its open event streams end at once on every gateway replica',
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['id'],
    properties: { id: { type: 'string', pattern: keyIdPattern } },
  },
  response: {
    200: ok('The key is revoked (revoking twice keeps the first time)', {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'revokedAt'],
      properties: { id: str, revokedAt: time },
    }),
    ...errorResponses(400, 404, 409, 503),
  },
} as const;

/** What the key routes need. */
export interface KeyRoutesDeps {
  keys: ApiKeyStore;
  clock: Clock;
  /** Told of every revocation, so every replica's open streams of the key re-check at once. */
  revocations: KeyRevocations;
  logger: Logger;
}

function toKeyJson(key: ApiKeyRecord): Record<string, unknown> {
  return {
    id: key.id,
    name: key.name,
    tenant: key.tenant,
    scopes: key.scopes,
    createdAt: key.createdAt.toISOString(),
    ...(key.revokedAt ? { revokedAt: key.revokedAt.toISOString() } : {}),
    ...(key.lastUsedAt ? { lastUsedAt: key.lastUsedAt.toISOString() } : {}),
  };
}

/** The tenant whose keys `principal` manages: its own, or every tenant's for the operator. */
function managedTenant(principal: Principal): string | undefined {
  return principal.via === 'operator' ? undefined : principal.tenant;
}

/** Registers `/v1/keys`. */
export function registerKeyRoutes(app: FastifyInstance, deps: KeyRoutesDeps): void {
  const { keys, clock, revocations, logger } = deps;

  app.post<{ Body: CreateKeyBody }>('/v1/keys', { schema: createSchema, config: admin }, async (request, reply) => {
    const principal = request.principal;
    const tenant = request.body.tenant ?? principal.tenant;
    if (tenant !== principal.tenant && principal.via !== 'operator') {
      throw new AuthError(AuthErrorCodes.tenantForbidden, `only the operator may create keys for another tenant than ${principal.tenant}`, principal.keyId !== undefined ? { keyId: principal.keyId } : {});
    }
    const generated = generateApiKey();
    processSecrets().register(generated.key, 'GATEWAY_API_KEY');
    const stored = await keys.create({
      id: generated.keyId,
      name: request.body.name.trim(),
      tenant,
      scopes: request.body.scopes,
      secretHash: hashSecret(generated.secret),
      operator: false,
      createdAt: new Date(clock.now()),
    });
    const { id, name, scopes, createdAt } = toKeyJson(stored);
    return reply.code(201).header('cache-control', 'no-store').send({ id, key: generated.key, name, tenant: stored.tenant, scopes, createdAt });
  });

  app.get('/v1/keys', { schema: listSchema, config: admin }, async (request) => ({
    keys: (await keys.list(managedTenant(request.principal))).map(toKeyJson),
  }));

  app.delete<{ Params: { id: string } }>('/v1/keys/:id', { schema: revokeSchema, config: admin }, async (request) => {
    const tenant = managedTenant(request.principal);
    const existing = await keys.get(request.params.id);
    // Another tenant's key reads exactly like an unknown one.
    if (!existing || (tenant !== undefined && existing.tenant !== tenant)) throw notFound('API key', request.params.id, 'API_KEY_NOT_FOUND');
    if (existing.operator) {
      throw new UserError('OPERATOR_KEY', 'the bootstrap key comes from the gateway\'s configuration; rotate MAESTRO_GATEWAY_BOOTSTRAP_KEY instead', { reason: 'precondition' });
    }
    const revoked = await keys.revoke(existing.id, new Date(clock.now()), tenant);
    if (!revoked?.revokedAt) throw notFound('API key', request.params.id, 'API_KEY_NOT_FOUND');
    const revokedAt = revoked.revokedAt.toISOString();
    // The revocation is stored; the announcement only hurries the open streams' end along.
    await revocations.announce({ keyId: revoked.id, tenant: revoked.tenant, revokedAt }).catch((err: unknown) => {
      logger.warn('key revocation not announced; its open streams end at their next heartbeat re-check', { keyId: revoked.id, err });
    });
    return { id: revoked.id, revokedAt };
  });
}
