/**
 * One Jest run for the whole workspace. Sources are TypeScript (ESM syntax); @swc/jest
 * compiles them to CommonJS for Jest, and `@maestro/*` resolves to each package's
 * `src/index.ts` so tests never depend on a previous build. Type checking is separate
 * (`pnpm typecheck`), as swc strips types without checking them.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/services', '<rootDir>/test', '<rootDir>/bench'],
  testMatch: ['**/?(*.)test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  moduleNameMapper: {
    '^@maestro/([a-z-]+)$': '<rootDir>/packages/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testTimeout: 60000,
  maxWorkers: 2,
};
