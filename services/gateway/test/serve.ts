/**
 * Serves a gateway app on a free local port for a test (real HTTP: fastify's inject needs an
 * ESM-only dependency the workspace's CommonJS Jest cannot load).
 */
import type { AddressInfo } from 'node:net';
import { buildGatewayApp, type GatewayDeps } from '../src/app.js';

/** A listening app and how to reach and stop it. */
export interface ServedApp {
  url: string;
  close(): Promise<void>;
}

/** Builds the app over `deps` and listens on 127.0.0.1, any free port. */
export async function serve(deps: GatewayDeps): Promise<ServedApp> {
  const app = buildGatewayApp(deps);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
}

/** What {@link callJson} got back: the status and the parsed JSON body. */
export interface JsonReply {
  status: number;
  // Tests read whatever shape the route answers.
  body: any;
}

/**
 * One request to `app` with `fetch` (a test's authenticated fetch), a JSON body when given, and
 * the reply's status and JSON body.
 */
export async function callJson(fetch: typeof globalThis.fetch, app: ServedApp, method: string, path: string, body?: unknown): Promise<JsonReply> {
  const response = await fetch(`${app.url}${path}`, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: await response.json() };
}
