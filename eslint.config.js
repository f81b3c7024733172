// One flat config for every workspace; each package runs `eslint .` and finds this file.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The pure core and the stream-task runtime stay free of I/O runtimes: only @sequor/kafka imports kafkajs,
// only @sequor/telemetry imports the OpenTelemetry SDK (DESIGN.md, habit 1).
const ioRuntimes = [
  { name: 'kafkajs', message: 'Only @sequor/kafka imports kafkajs.' },
  { name: '@opentelemetry/sdk-node', message: 'Only @sequor/telemetry imports the OpenTelemetry SDK.' },
];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.turbo/**', '.cache/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['shared/{model,formats,eql,engine,rules,sigma,pipeline,scenarios,streams,service}/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: ioRuntimes }] },
  },
);
