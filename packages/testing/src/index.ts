/**
 * Test harnesses shared by every package and service: fresh databases and namespaces on the
 * real servers, and helpers to start service processes and wait for them.
 *
 * @example
 * const db = await createTestDatabase();
 * const bus = await connectBus({ url: testServers.natsUrl, name: 'test', logger, namespace: testNamespace() });
 * afterAll(() => db.drop());
 */
export { createTestDatabase, testServerUrl, type TestDatabase } from './test-database.js';
export { testNamespace, testKeyPrefix, testServers } from './test-namespace.js';
export { ServiceProcess, type ProcessExit, type ServiceProcessOptions } from './service-process.js';
export { testBusSigningKey } from './test-bus-signing.js';
export { runToEnd, type RunResult, type RunToEndOptions } from './run-to-end.js';
export { waitFor, waitUntil } from './wait-until.js';
export { createTestCertificates, type TestCertificates, type TestCertificateFiles, type TestCertificateOptions } from './test-certificates.js';
export {
  startFakeHttpServer,
  type FakeHttpServer,
  type FakeResponse,
  type FakeResponder,
  type RecordedRequest,
} from './fake-http-server.js';
export {
  startFakeOpenAIServer,
  fromChatCompletionsBody,
  toChatCompletionBody,
  toChatCompletionChunks,
  fakeResponseFromRecording,
  fromEmbeddingsBody,
  toEmbeddingsBody,
  toBase64Float32,
  FakeRequestError,
  type FakeOpenAIServer,
  type FakeOpenAIServerOptions,
  type DecodedChatRequest,
  type FakeOpenAIEncodeOptions,
  type RecordedWireResponse,
  type DecodedEmbeddingsRequest,
} from './fake-openai-server.js';
export {
  startFakeGeminiServer,
  fromGeminiWireRequest,
  toGeminiWireResponse,
  toGeminiWireChunks,
  parseGeminiPath,
  parseGeminiEmbeddingPath,
  fromGeminiEmbeddingBody,
  toGeminiEmbeddingBody,
  GEMINI_SSE_SEPARATOR,
  type FakeGeminiServer,
  type FakeGeminiServerOptions,
  type GeminiWireCall,
  type GeminiEmbeddingMethod,
  type GeminiEmbeddingRequest,
} from './fake-gemini-server.js';
export { createTrappedGitRepo, TRAPPED_HOOKS, type TrappedGitRepo, type TrappedGitRepoOptions } from './trapped-git-repo.js';
export { processesWithArgument } from './host-processes.js';
