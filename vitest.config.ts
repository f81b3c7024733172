import { defineConfig } from 'vitest/config';

// Tests import workspace packages from source (the `sequor-source` export condition),
// so `vitest` needs no build; services run as subprocesses use the built dist/.
const conditions = ['sequor-source', 'node', 'import', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: [
            '{shared,services}/*/test/**/*.test.ts',
            'test/unit/**/*.test.ts',
            'test/oracle/**/*.test.ts',
          ],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
          environment: 'node',
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['{shared,services}/*/test/**/*.int.test.ts', 'test/{e2e,integration}/**/*.test.ts'],
          globalSetup: ['test/setup/kafka-global-setup.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // One broker on a 2-core machine: run integration files one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
