// Import this first in every test that loads the OpenTelemetry SDK (a test-only shim).
//
// Why: the root vitest config resolves with the `module` condition and passes it to the worker as
// `node --conditions module`. `@opentelemetry/api` (and `otlp-exporter-base`, ...) export `module` → an
// ESM build whose relative imports have no extensions (meant for bundlers), which Node cannot load, so
// the SDK packages' own `require('@opentelemetry/api')` fails inside vitest. This maps such resolutions
// back to the package's CommonJS build (`build/src`), which is what plain `node` and `tsx` load. Drop
// this file once the root config no longer lists `module` among its conditions.
import { createRequire } from 'node:module';
import path from 'node:path';

interface ResolvingModule {
  _resolveFilename(request: string, parent: unknown, isMain: boolean, options?: unknown): string;
}

const Module = createRequire(import.meta.url)('node:module') as ResolvingModule;
const sep = path.sep === '\\' ? '\\\\' : '/';
const ESM_BUILD = new RegExp(`(${sep}@opentelemetry${sep}[^${sep}]+${sep}build${sep})esm(${sep})`);
const marker = Symbol.for('sequor.telemetry.otelResolutionShim');
const globals = globalThis as { [marker]?: boolean };

if (!globals[marker]) {
  globals[marker] = true;
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request, parent, isMain, options) {
    const resolved = resolve.call(this, request, parent, isMain, options);
    return ESM_BUILD.test(resolved) ? resolved.replace(ESM_BUILD, '$1src$2') : resolved;
  };
}
