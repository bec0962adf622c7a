/**
 * The service runtime every CodeMaestro service is built on: typed config from the
 * environment, the error hierarchy, structured logging, telemetry, gRPC server and client
 * helpers (health, deadlines, error mapping), graceful shutdown, and an injectable clock.
 *
 * @example
 * import { runService, loadConfig, commonEnv, grpcAddrEnv, createLogger, createGrpcServer, unary } from '@maestro/runtime';
 *
 * runService('router', async (lifecycle) => {
 *   const config = loadConfig({ ...commonEnv, grpcAddr: grpcAddrEnv.router });
 *   const logger = createLogger({ service: 'router', level: config.logLevel });
 *   lifecycle.setLogger(logger);
 *   const server = createGrpcServer({ address: config.grpcAddr, logger, serviceNames: ['maestro.v1.RouterService'] });
 *   server.add(RouterServiceService, handlers);
 *   await server.start();
 *   lifecycle.onShutdown('grpc', () => server.shutdown());
 *   await serveMetrics({ service: 'router', host: config.metricsHost, port: config.metricsPort, logger, lifecycle });
 * });
 */
export {
  MaestroError,
  UserError,
  OperationalError,
  UnexpectedError,
  invalidField,
  notFound,
  isMaestroError,
  toMaestroError,
  type MaestroErrorOptions,
} from './errors.js';
export { createLogger, createSilentLogger, LogLevels, type Logger, type LogFields, type LogLevel, type LoggerOptions } from './logger.js';
export { redactUrl } from './redact-url.js';
export { cutEnd, cutMiddle } from './text-cuts.js';
export { KeyedMutex } from './keyed-mutex.js';
export {
  SecretRegistry,
  createSecretRegistry,
  processSecrets,
  redactDeep,
  redactionMarker,
  noRedaction,
  isSecretName,
  urlCredentials,
  MIN_SECRET_LENGTH,
  type Redactor,
  type SecretRegistryOptions,
} from './secrets/index.js';
export { rejectNulCharacters, NUL_CHARACTER_PROBLEM } from './reject-nul-characters.js';
export {
  RepoSafetyErrorCodes,
  REPO_ROOTS_VARIABLE,
  parseRepoRoots,
  isInsideRoots,
  resolveRepoInRoots,
  repoRootsEnv,
  type RepoSafetyErrorCode,
  type RepoInRoots,
} from './repo-roots.js';
export {
  TENANT_REPO_ROOTS_VARIABLE,
  parseTenantRepoRoots,
  checkTenantRepoRoots,
  tenantRepoRootsOf,
  resolveRepoForTenant,
  tenantRepoRootsEnv,
  type TenantRepoRoots,
  type RepoRootsScope,
} from './tenant-repo-roots.js';
export {
  SAFE_GIT_CONFIG,
  SAFE_DIFF_FLAGS,
  GIT_CONFIG_LIST_ARGS,
  safeGitArgs,
  safeGitEnv,
  safeGitEnvOverrides,
  findUnsafeGitConfig,
  unsafeGitConfigProblem,
  type SafeGitEnvOptions,
  type GitConfigFindings,
} from './safe-git.js';
export { systemClock, ManualClock, type Clock, type Timer } from './clock.js';
export { exponentialBackoff, type BackoffOptions } from './backoff.js';
export { unreadableWorktreeMetadata, retryWhileWorktreeMetadataHalfWritten, type WorktreeRaceRetry } from './worktree-metadata-race.js';
export {
  env,
  loadConfig,
  describeConfig,
  commonEnv,
  grpcAddrEnv,
  metricsPortEnv,
  ConfigError,
  type EnvVar,
  type EnvVarOptions,
  type ConfigSpec,
  type ConfigOf,
} from './config.js';
export {
  initTelemetry,
  tracer,
  injectTraceContext,
  extractTraceContext,
  withSpan,
  traceIdOf,
  traceIdIn,
  toTraceCarrier,
  fromTraceCarrier,
  startSpan,
  withActiveSpan,
  withSpanInTrace,
  recordSpanFailure,
  setActiveSpanAttributes,
  activeTraceContext,
  withTraceContext,
  TraceAttributes,
  SpanKind,
  type Span,
  type Telemetry,
  type TelemetryOptions,
  type HeaderCarrier,
  type TraceCarrier,
  type Context,
} from './telemetry.js';
export { HealthService, ServingStatus } from './grpc/health-service.js';
export { toGrpcStatus, fromGrpcError, ErrorMetadataKeys } from './grpc/status-mapping.js';
export {
  createGrpcServer,
  GrpcServer,
  unary,
  serverStream,
  type CallContext,
  type GrpcServerOptions,
  CALLER_NOT_ALLOWED,
} from './grpc/server.js';
export {
  compileTransportSecurity,
  PLAINTEXT,
  PLAINTEXT_WARNING,
  TransportSecurityVariables,
  type MtlsTransportSecurity,
  type PlaintextTransportSecurity,
  type ReadFile,
  type TransportSecurity,
  type TransportSecurityConfig,
} from './grpc/tls/transport-security.js';
export { toChannelCredentials, toServerCredentials } from './grpc/tls/credentials.js';
export { identityOf, toSpiffeId, ServiceIdentities, SPIFFE_TRUST_DOMAIN, type CertificateNames, type ServiceIdentity } from './grpc/tls/service-identity.js';
export { checkCaller, ServiceCallers, type CallerDecision, type MethodCallers } from './grpc/tls/service-callers.js';
export { createGrpcClient, CALL_ABORTED, type GrpcClient, type GrpcClientOptions, type PromiseClient, type CallOpts } from './grpc/client.js';
export { runService, type Lifecycle, type RunServiceOptions } from './lifecycle.js';
export {
  processRegistry,
  defineCounter,
  defineGauge,
  defineHistogram,
  enableProcessMetrics,
  DurationBuckets,
  Counter,
  Gauge,
  Histogram,
  Registry,
  startMetricsServer,
  serveMetrics,
  METRICS_PATH,
  grpcServerHistogram,
  splitGrpcPath,
  grpcCodeName,
  trackConsumerBacklog,
  parsePrometheusText,
  sampleValue,
  type MetricDefinition,
  type HistogramDefinition,
  type MetricsServer,
  type MetricsServerOptions,
  type ServeMetricsOptions,
  type GrpcServerLabel,
  type ConsumerBacklog,
  type ConsumerBacklogSource,
  type ConsumerBacklogOptions,
  type MetricSample,
  type ParsedMetrics,
} from './metrics/index.js';
export { tenantScope, ownerTenant, isVisibleTo } from './tenant-scope.js';
