#!/usr/bin/env node
// The `sequor` executable: wires the process to runCli and exits with its code.
import { applyV8Flags } from '@sequor/service';
import { commandLabel, runCli } from './cli.js';
import { processContext } from './context.js';
import { EXIT, systemReason } from './errors.js';

applyV8Flags();

// A failed stdout write (the reader closed the pipe: EPIPE) must not kill the process with a stack: the
// commands' writers report it, and anything written directly is checked below.
let stdoutError: unknown = null;
process.stdout.on('error', (error: unknown) => (stdoutError ??= error));

const argv = process.argv.slice(2);
let code = await runCli(argv, processContext());
if (code === EXIT.ok) {
  // Everything written has been handed to the OS (or failed) once this empty write's callback runs.
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  if (stdoutError !== null) {
    // Output was lost: that is not a success, whoever closed the pipe.
    process.stderr.write(`${commandLabel(argv)}: stdout: cannot write: ${systemReason(stdoutError)}\n`);
    code = EXIT.failed;
  }
}
process.exitCode = code;
