/**
 * The `maestro` command and the local-cluster tooling behind it: run CodeMaestro's services
 * as local processes (for `make demo` and the end-to-end tests) and follow a run's events.
 *
 * @example
 * const cluster = new LocalCluster({ root, logDir, env });
 * await cluster.allocatePorts();
 * await cluster.migrate('workflow-engine');
 * await cluster.start('workflow-engine');
 */
export {
  LocalCluster,
  ServiceNames,
  MigratingServices,
  GrpcAddrVariables,
  waitServing,
  type ServiceName,
  type ServiceProcess,
  type LocalClusterOptions,
} from './local-cluster.js';
export { canListen, freePort } from './free-port.js';
export { readEventStream, type SseEvent } from './sse-client.js';
export { runDemo, prepareSampleRepo, createDatabase, dropDatabase, type DemoOptions } from './demo.js';
