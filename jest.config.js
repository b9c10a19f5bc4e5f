// Jest runs in native ESM mode (client-node 2 is ESM-only); swc strips types without type-checking,
// `npm run lint` type-checks the tests separately.
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', {
      jsc: { target: 'es2023', parser: { syntax: 'typescript' } },
      module: { type: 'es6' },
      sourceMaps: 'inline',
    }],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  maxWorkers: 2,
  // One real control plane per run, started by the first test that needs it (test/support/cluster.ts).
  globalSetup: '<rootDir>/test/support/cluster-setup.cjs',
  globalTeardown: '<rootDir>/test/support/cluster-teardown.cjs',
  testTimeout: 30000,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.cjs'],
};
