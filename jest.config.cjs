/**
 * One Jest run for the whole workspace. Sources are TypeScript (ESM syntax); @swc/jest
 * compiles them to CommonJS for Jest, and `@maestro/*` resolves to each package's
 * `src/index.ts` so tests never depend on a previous build. Type checking is separate
 * (`pnpm typecheck`), as swc strips types without checking them.
 *
 * A few dependencies ship only ES modules, which Jest's CommonJS runtime cannot `require`
 * (Node ≥ 20.19 can, so production loads them as they are). Rather than stubbing them, the
 * same swc transform compiles those packages to CommonJS too (`import.meta.url` becomes the
 * file's URL). Everything else under node_modules is left alone, as Jest's default does.
 */

/**
 * Packages published as ES modules only that tests load, by name as in node_modules:
 * content-disposition 3 (through @fastify/static), cookie 2 (fastify's `inject`, through
 * light-my-request), @seriousme/openapi-schema-validator (the OpenAPI test) and jose 6 (the
 * gateway's OIDC verifier). Add a package
 * here when a test fails with "Cannot use import statement outside a module" from it.
 */
const esmOnlyPackages = ['content-disposition', 'cookie', '@seriousme/openapi-schema-validator', 'jose'];

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
// pnpm keeps a package at node_modules/.pnpm/<name with / as +>@<version>/node_modules/<name>/.
const names = esmOnlyPackages.map(escapeRegExp).join('|');
const storeNames = esmOnlyPackages.map((name) => escapeRegExp(name.replace('/', '+'))).join('|');
const esmOnlyFile = `/node_modules/(?:\\.pnpm/(?:${storeNames})@[^/]+/node_modules/)?(?:${names})/.+\\.m?js$`;

const swc = (syntax) => [
  '@swc/jest',
  { jsc: { parser: { syntax }, target: 'es2022' }, module: { type: 'commonjs' } },
];

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/services', '<rootDir>/test', '<rootDir>/bench'],
  testMatch: ['**/?(*.)test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transform: {
    '^.+\\.ts$': swc('typescript'),
    [esmOnlyFile]: swc('ecmascript'),
  },
  // Jest skips node_modules, except a path that goes on into one of esmOnlyPackages (whether
  // reached through .pnpm/<name>@<version>/ or a node_modules/<name> link).
  transformIgnorePatterns: [`/node_modules/(?!\\.pnpm/(?:${storeNames})@|(?:${names})/)`],
  moduleNameMapper: {
    '^@maestro/([a-z-]+)$': '<rootDir>/packages/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testTimeout: 60000,
  maxWorkers: 2,
  // The fault suite (test/faults) prints its Jepsen-style summary table after the run.
  reporters: ['default', '<rootDir>/test/faults/fault-summary-reporter.cjs'],
};
