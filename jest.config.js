/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  setupFiles: ['<rootDir>/test/support/setup-env.ts'],
  transform: { '^.+\\.tsx?$': 'ts-jest' },
  // CDK synth and emulator tests are CPU-heavy: two workers fit the 2-core CI machine.
  maxWorkers: 2,
  testTimeout: 60000,
};
