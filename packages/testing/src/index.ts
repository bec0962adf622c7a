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
