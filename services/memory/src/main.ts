/**
 * The memory process: config → telemetry and logger → PostgreSQL → embedder → memory service,
 * re-embedder and gRPC server. Migrations run before it, from `migrate.ts`. No logic here; see
 * README.md for what the service does.
 */
import { createDb } from '@maestro/db';
import { createEmbedder } from '@maestro/llm';
import type { EmbedderEnvironment } from '@maestro/llm';
import { compileTransportSecurity, createLogger, initTelemetry, loadConfig, runService, serveMetrics, systemClock } from '@maestro/runtime';
import { memoryConfigSpec } from './config.js';
import { REFLEX_POLICY_DEFAULTS } from './domain/confidence.js';
import { createMemoryServer, openMemoryService } from './memory-server.js';
import type { MemoryDatabase } from './store/memory-rows.js';

runService('memory', async (lifecycle) => {
  const config = loadConfig(memoryConfigSpec);
  const security = compileTransportSecurity(config);
  const telemetry = initTelemetry({ serviceName: 'memory', otlpEndpoint: config.otlpEndpoint });
  lifecycle.onShutdown('telemetry', () => telemetry.shutdown());
  const logger = createLogger({ service: 'memory', level: config.logLevel });
  lifecycle.setLogger(logger);

  const db = createDb<MemoryDatabase>({ url: config.databaseUrl, applicationName: 'memory', logger });
  lifecycle.onShutdown('database', () => db.destroy());

  const credentials: EmbedderEnvironment = {
    OPENAI_API_KEY: config.openaiApiKey,
    OPENAI_BASE_URL: config.openaiBaseUrl,
    GEMINI_API_KEY: config.geminiApiKey,
    MAESTRO_GEMINI_BASE_URL: config.geminiBaseUrl,
  };
  // `embedTimeoutMs` bounds a whole embedder call, retries included (`EmbeddingSpaces` aborts it
  // then); giving each request the same timeout too only ran a second timer and left no room to retry.
  const embedderOptions = { clock: systemClock };
  const parts = await openMemoryService({
    db,
    embedder: createEmbedder(config.embedder, credentials, embedderOptions),
    embedderSpec: config.embedder.spec,
    embedderFor: (spec) => createEmbedder(spec, credentials, { ...embedderOptions, field: 'embedding_spaces.spec' }),
    clock: systemClock,
    logger,
    policy: { ...REFLEX_POLICY_DEFAULTS, halfLifeDays: config.reflexHalfLifeDays, ttlDays: config.reflexTtlDays },
    minSimilarity: config.minSimilarity,
    embedTimeoutMs: config.embedTimeoutMs,
    reembedIntervalMs: config.reembedIntervalMs,
    reembedBatchSize: config.reembedBatchSize,
  });
  parts.reembedder.start();
  lifecycle.onShutdown('re-embedder', () => parts.reembedder.stop());

  const server = createMemoryServer({ address: config.grpcAddr, logger, memory: parts.memory, clock: systemClock, security, healthPort: config.grpcHealthPort });
  await server.start();
  lifecycle.onShutdown('grpc', () => server.shutdown());
  await serveMetrics({ service: 'memory', host: config.metricsHost, port: config.metricsPort, logger, lifecycle });
});
