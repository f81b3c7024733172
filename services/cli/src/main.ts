#!/usr/bin/env node
// The `sequor` executable: wires the process to runCli and exits with its code.
import { runCli } from './cli.js';
import { processContext } from './context.js';

// `sequor detect ... | head` closes stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

process.exitCode = await runCli(process.argv.slice(2), processContext());
