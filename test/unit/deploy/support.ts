// Shared by the deploy checks (test/unit/deploy/*.test.ts): the tools deploy/check/install-tools.sh
// installs, and the environment variables the services read, found from their own code.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { Env } from '@sequor/model';
import { logLevelFromEnv } from '@sequor/kafka';
import { normalizerConfigFromEnv } from '@sequor/normalizer';
import { detectorConfigFromEnv } from '@sequor/detector';
import { telemetryConfigFromEnv } from '@sequor/telemetry';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const deployDir = path.join(repoRoot, 'deploy');

const cacheRoot = process.env.SEQUOR_CACHE?.trim() || path.join(homedir(), '.cache', 'sequor');
export const tools = {
  deployCheck: path.join(cacheRoot, 'deploy-check', 'bin', 'sequor-deploy-check'),
  hadolint: path.join(cacheRoot, 'deploy-check', 'venv', 'bin', 'hadolint'),
  kubernetesValidate: path.join(cacheRoot, 'deploy-check', 'venv', 'bin', 'kubernetes-validate'),
};

/** Runs deploy/check/install-tools.sh (a no-op when the cached tools match their inputs; minutes when cold). */
export function installTools(): void {
  execFileSync('bash', [path.join(deployDir, 'check', 'install-tools.sh')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

const run = promisify(execFile);

export interface ToolResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `file args`; resolves with its exit code and output whatever the code. */
export async function runTool(file: string, args: readonly string[], cwd = repoRoot): Promise<ToolResult> {
  try {
    const { stdout, stderr } = await run(file, [...args], { cwd, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string; message: string };
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? e.message };
  }
}

/** `KEY=value` lines of an env file (compose `.env`, kustomize `envs:`); comments and blank lines skipped. */
export function parseEnvFile(file: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) vars.set(m[1] as string, m[2] as string);
  }
  return vars;
}

export type ServiceName = 'normalizer' | 'detector';

/** What each service's main.ts builds its configuration with, as one function of the environment. */
export const serviceConfig: Record<ServiceName, (env: Env) => unknown> = {
  normalizer: (env) => ({
    service: normalizerConfigFromEnv(env),
    telemetry: telemetryConfigFromEnv(env),
    log: logLevelFromEnv(env),
  }),
  detector: (env) => ({
    service: detectorConfigFromEnv(env),
    telemetry: telemetryConfigFromEnv(env),
    log: logLevelFromEnv(env),
  }),
};

// Environments that walk every branch of the config code: required values, then TLS, SASL, a registry and
// the optional settings turned on (a branch reads some variables only when another is set).
const probeEnvs: readonly Env[] = [
  {},
  { KAFKA_BROKERS: 'k:9092', NORMALIZER_SOURCES: 'ecs:raw' },
  {
    KAFKA_BROKERS: 'k:9092',
    NORMALIZER_SOURCES: 'ecs:raw',
    KAFKA_SSL: 'true',
    KAFKA_SASL_MECHANISM: 'plain',
    KAFKA_SASL_USERNAME: 'u',
    KAFKA_SASL_PASSWORD: 'p',
  },
  {
    KAFKA_BROKERS: 'k:9092',
    NORMALIZER_SOURCES: 'ecs:raw',
    SCHEMA_REGISTRY_URL: 'http://r:8081',
    SCHEMA_REGISTRY_USERNAME: 'u',
    SCHEMA_REGISTRY_PASSWORD: 'p',
    STATE_MAX_PARTIALS: '5',
  },
];

/** Variables `configure` reads, recorded by a Proxy over each probe environment (a throw still counts). */
function variablesRead(configure: (env: Env) => unknown): Set<string> {
  const read = new Set<string>();
  for (const base of probeEnvs) {
    const env = new Proxy({ ...base } as Record<string, string | undefined>, {
      get(target, key) {
        if (typeof key === 'string') read.add(key);
        return typeof key === 'string' ? target[key] : undefined;
      },
      has(target, key) {
        if (typeof key === 'string') read.add(key);
        return key in target;
      },
    });
    try {
      configure(env);
    } catch {
      // an incomplete probe environment: what was read up to the error is recorded
    }
  }
  return read;
}

// Where code reads the environment itself: `process.env.X`, `process.env['X']`; in a service's own code also
// `env.X`, `env['X']` and `(env, 'X'` (its config helpers). Shared packages read `env` only in the config
// functions the services call, which variablesRead runs.
const PROCESS_ENV_READ = /\bprocess\.env(?:\.([A-Z][A-Z0-9_]+)\b|\[\s*'([A-Z][A-Z0-9_]+)'\s*\])/g;
const ENV_READ = /\benv(?:\.([A-Z][A-Z0-9_]+)\b|\[\s*'([A-Z][A-Z0-9_]+)'\s*\]|\s*,\s*'([A-Z][A-Z0-9_]+)')/g;

/** Workspace package directories by package name (shared/*, services/*). */
function workspacePackages(): Map<string, string> {
  const byName = new Map<string, string>();
  for (const group of ['shared', 'services']) {
    for (const entry of readdirSync(path.join(repoRoot, group), { withFileTypes: true })) {
      const file = path.join(repoRoot, group, entry.name, 'package.json');
      if (!entry.isDirectory() || !existsSync(file)) continue;
      byName.set(
        (JSON.parse(readFileSync(file, 'utf8')) as { name: string }).name,
        path.join(repoRoot, group, entry.name),
      );
    }
  }
  return byName;
}

/** Source folders a service's process loads: its own, then the workspace packages it depends on. */
function sourceDirs(service: ServiceName): string[] {
  const packages = workspacePackages();
  const dirs = [path.join(repoRoot, 'services', service, 'src')];
  const seen = new Set<string>();
  const visit = (pkgDir: string): void => {
    const pkg = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    for (const dep of Object.keys(pkg.dependencies ?? {})) {
      const dir = packages.get(dep);
      if (dir === undefined || seen.has(dep)) continue;
      seen.add(dep);
      dirs.push(path.join(dir, 'src'));
      visit(dir);
    }
  };
  visit(path.join(repoRoot, 'services', service));
  return dirs;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

/** Variable names read in the source of a service and of the shared packages it loads (see above). */
export function variablesInSource(service: ServiceName): Set<string> {
  const names = new Set<string>();
  const [own, ...shared] = sourceDirs(service);
  for (const [dirs, pattern] of [
    [[own as string], ENV_READ],
    [[own as string, ...shared], PROCESS_ENV_READ],
  ] as const) {
    for (const dir of dirs) {
      for (const file of tsFiles(dir)) {
        for (const m of readFileSync(file, 'utf8').matchAll(pattern))
          names.add((m[1] ?? m[2] ?? m[3]) as string);
      }
    }
  }
  return names;
}

/**
 * Every environment variable `service` reads: what its configuration code reads when run (the functions
 * main.ts calls), plus any other read found in its source, so a variable read outside them counts too.
 */
export function serviceVariables(service: ServiceName): Set<string> {
  return new Set([...variablesRead(serviceConfig[service]), ...variablesInSource(service)]);
}

/**
 * Variables the OpenTelemetry SDK reads that shared/telemetry/README.md documents (`OTEL_*` in backticks),
 * and NODE_OPTIONS (node itself): deploy files may set these although no Sequor code reads them.
 */
export function runtimeVariables(): Set<string> {
  const readme = readFileSync(path.join(repoRoot, 'shared', 'telemetry', 'README.md'), 'utf8');
  const names = new Set<string>(['NODE_OPTIONS']);
  for (const m of readme.matchAll(/`(OTEL_[A-Z0-9_]+)`/g)) names.add(m[1] as string);
  return names;
}
