#!/usr/bin/env node
// The installed `sequor` command (`npx sequor`). It is committed, not built: npm links a workspace's bins
// when it installs, before dist/ exists, and a bin that is missing then is neither linked nor made
// executable. It runs the build's output, and says how to build it when there is none.
import process from 'node:process';

try {
  await import('../dist/main.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('/dist/main.js')) throw error;
  process.stderr.write('sequor: not built yet: run `npm run build` at the repository root first\n');
  process.exitCode = 1;
}
