-- API keys of the gateway (services/gateway/src/auth). Only a SHA-256 hash of each key's
-- secret is stored, never the key. Applied by `node dist/migrate.js` (make migrate, the k8s
-- migrate job). Never edit a migration that has shipped; add the next file.
CREATE TABLE gateway.api_keys (
  id text PRIMARY KEY,
  name text NOT NULL,
  tenant text NOT NULL,
  scopes text[] NOT NULL CHECK (cardinality(scopes) > 0),
  secret_hash text NOT NULL,
  operator boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL,
  revoked_at timestamptz,
  last_used_at timestamptz
);
-- Listing a tenant's keys, oldest first.
CREATE INDEX api_keys_tenant_created_idx ON gateway.api_keys (tenant, created_at, id);
