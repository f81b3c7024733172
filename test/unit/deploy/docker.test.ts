// deploy/docker: the Dockerfile linted by hadolint (deploy/check/install-tools.sh) and read for what the
// issue asks of the images: the start command the integration tests use, a supported Node LTS on a
// non-root distroless runtime, production dependencies only, every workspace package in the build, a
// HEALTHCHECK that works without curl. The image build itself needs a Docker engine and is not run here.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { telemetryConfigFromEnv } from '@sequor/telemetry';
import { deployDir, installTools, repoRoot, runTool, tools } from './support.js';

const dockerfile = path.join(deployDir, 'docker', 'Dockerfile');
const text = readFileSync(dockerfile, 'utf8');

interface Instruction {
  readonly op: string;
  readonly args: string;
}
interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

/** The Dockerfile's stages, each with its instructions (continuations joined, comments dropped). */
function stages(): Stage[] {
  const args = new Map<string, string>();
  const result: Stage[] = [];
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  for (const line of lines) {
    const [, op = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (op === 'ARG' && result.length === 0) {
      const [k, v] = rest.split('=');
      args.set(k as string, v ?? '');
    } else if (op === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest) as RegExpExecArray;
      const from = (m[1] as string).replace(/\$\{(\w+)\}/g, (_, k: string) => args.get(k) ?? '');
      result.push({ from, name: m[2], instructions: [] });
    } else {
      result.at(-1)?.instructions.push({ op, args: rest });
    }
  }
  return result;
}

const all = stages();
const stage = (name: string): Stage => {
  const found = all.find((s) => s.name === name);
  if (found === undefined) throw new Error(`no stage ${name}`);
  return found;
};
/** A stage's instructions including those of the stages it is built FROM. */
const chain = (s: Stage): Instruction[] => {
  const parent = all.find((p) => p.name === s.from);
  return [...(parent ? chain(parent) : []), ...s.instructions];
};
const last = (s: Stage, op: string): string | undefined =>
  chain(s)
    .filter((i) => i.op === op)
    .at(-1)?.args;

beforeAll(() => installTools(), 600_000);

describe('Dockerfile', () => {
  it('passes hadolint, which refuses a careless one', async () => {
    const result = await runTool(tools.hadolint, ['--no-color', dockerfile]);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.code).toBe(0);
    const bad = path.join(mkdtempSync(path.join(tmpdir(), 'sequor-hadolint-')), 'Dockerfile');
    writeFileSync(bad, 'FROM node:latest\nRUN apt-get update && apt-get install curl\nCMD node main.js\n');
    expect((await runTool(tools.hadolint, ['--no-color', bad])).code).not.toBe(0);
  });

  it.each([
    ['normalizer', 'test/e2e/normalizer-process.test.ts'],
    ['detector', 'services/detector/test/support/process.ts'],
  ])('the %s image starts `node services/<name>/dist/main.js`, as the tests start it', (name, testFile) => {
    const s = stage(name);
    expect(last(s, 'WORKDIR')).toBe('/app');
    expect(JSON.parse(last(s, 'ENTRYPOINT') as string)).toEqual(['/nodejs/bin/node']);
    const cmd = JSON.parse(last(s, 'CMD') as string) as string[];
    expect(cmd).toEqual([`services/${name}/dist/main.js`]);
    expect(readFileSync(path.join(repoRoot, testFile), 'utf8')).toContain(`'services/${name}/dist/main.js'`);
  });

  it('exec form only, so node is PID 1 and receives SIGTERM', () => {
    for (const i of all.flatMap((s) => s.instructions).filter((x) => ['CMD', 'ENTRYPOINT'].includes(x.op))) {
      expect(() => JSON.parse(i.args), `${i.op} ${i.args}`).not.toThrow();
    }
  });

  it('runs on a distroless Node.js LTS, as a numeric non-root user', () => {
    const runtime = stage('runtime');
    const m = /^gcr\.io\/distroless\/nodejs(\d+)-debian\d+:nonroot$/.exec(runtime.from);
    expect(m, runtime.from).not.toBeNull();
    const major = Number(m?.[1]);
    // Even majors are the LTS lines; 20 left support in April 2026.
    expect(major % 2).toBe(0);
    expect(major).toBeGreaterThanOrEqual(22);
    const build = stage('build').from;
    expect(build).toMatch(new RegExp(`^node:${major}[-.]`));
    const user = last(runtime, 'USER') as string;
    expect(user).toMatch(/^[1-9]\d*(:\d+)?$/);
  });

  it('ships production dependencies only, with every workspace package and the runtime data', () => {
    expect(
      chain(stage('prod-deps'))
        .filter((i) => i.op === 'RUN')
        .map((i) => i.args),
    ).toEqual([expect.stringMatching(/^npm ci --omit=dev /)]);
    const copies = stage('runtime')
      .instructions.filter((i) => i.op === 'COPY')
      .map((i) => i.args);
    expect(copies).toEqual([
      '--from=prod-deps /app/ /app/',
      'deploy/docker/healthcheck.mjs deploy/docker/healthcheck.mjs',
    ]);
    expect(
      stage('prod-deps')
        .instructions.filter((i) => i.op === 'COPY')
        .map((i) => i.args),
    ).toEqual(['--from=build /out/app/ ./']);
    // The build stage's runtime tree: package.json and dist/ of every package under the workspace folders,
    // the data read at run time (built-in rules, schemas), and the lockfile.
    const tree = stage('build')
      .instructions.filter((i) => i.op === 'RUN')
      .map((i) => i.args)
      .join(' ');
    expect(tree).toContain('for pkg in shared/* services/*;');
    expect(tree).toContain('cp "$pkg/package.json" "/out/app/$pkg/"');
    expect(tree).toContain('cp -r "$pkg/dist" "/out/app/$pkg/"');
    expect(tree).toContain('cp -r shared/rules/builtin /out/app/shared/rules/');
    expect(tree).toContain('cp -r schemas package.json package-lock.json /out/app/');
    expect(tree).toContain('cp test/package.json /out/app/test/');
    expect(tree).toMatch(
      /turbo run build --filter=@sequor\/normalizer\.\.\. --filter=@sequor\/detector\.\.\. --filter=@sequor\/cli\.\.\./,
    );
  });

  it('the workspaces are the folders the build copies, so `npm ci` sees the whole lockfile', () => {
    const workspaces = (
      JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { workspaces: string[] }
    ).workspaces;
    expect([...workspaces].sort()).toEqual(['services/*', 'shared/*', 'test']);
    const copies = stage('build')
      .instructions.filter((i) => i.op === 'COPY')
      .map((i) => i.args);
    expect(copies).toEqual(
      expect.arrayContaining(['shared/ shared/', 'services/ services/', 'test/package.json test/']),
    );
    // Runtime data read through import.meta.url by a shipped package (besides dist/) must be in the tree.
    for (const dir of ['shared', 'services']) {
      for (const pkg of readdirSync(path.join(repoRoot, dir), { withFileTypes: true }).filter((e) =>
        e.isDirectory(),
      )) {
        const src = path.join(repoRoot, dir, pkg.name, 'src');
        if (!existsSync(src)) continue;
        for (const file of readdirSync(src, { recursive: true, withFileTypes: true }).filter(
          (e) => e.isFile() && e.name.endsWith('.ts'),
        )) {
          for (const m of readFileSync(path.join(file.parentPath, file.name), 'utf8').matchAll(
            /new URL\('(\.\.\/[^']+)', import\.meta\.url\)/g,
          )) {
            // Resolved from dist/ (the same depth as src/): the target relative to the repository.
            const target = path.relative(
              repoRoot,
              path.resolve(file.parentPath.replace(`${path.sep}src`, `${path.sep}dist`), m[1] as string),
            );
            const shipped =
              target.startsWith('schemas') ||
              target.startsWith('shared/rules/builtin') ||
              /\/(dist|package\.json)/.test(target) ||
              target.startsWith('services/cli/dist');
            expect(shipped, `${path.relative(repoRoot, file.parentPath)}/${file.name} reads ${target}`).toBe(
              true,
            );
          }
        }
      }
    }
  });

  it('its .dockerignore keeps every file the Dockerfile copies from the context', () => {
    const ignore = readFileSync(path.join(deployDir, 'docker', 'Dockerfile.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(ignore[0]).toBe('*');
    const kept = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
    const sources = all
      .flatMap((s) => s.instructions)
      .filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    for (const source of sources) {
      const plain = source.replace(/\/$/, '');
      // A directory is copied with what the ignore file keeps below it (shared/ -> shared/*/src, ...).
      const keptBelow = source.endsWith('/') && kept.some((k) => k.startsWith(`${plain}/`));
      expect(kept.some((k) => k === plain || glob(k).test(plain)) || keptBelow, source).toBe(true);
    }
  });

  it('the HEALTHCHECK asks /healthz with node itself (no curl in distroless)', async () => {
    const healthcheck = last(stage('runtime'), 'HEALTHCHECK') as string;
    const cmd = JSON.parse(healthcheck.replace(/^.*?CMD\s+/, '')) as string[];
    expect(cmd).toEqual(['/nodejs/bin/node', 'deploy/docker/healthcheck.mjs']);
    expect(last(stage('runtime'), 'EXPOSE')).toBe(String(telemetryConfigFromEnv({}).metricsPort));
    const script = path.join(repoRoot, cmd[1] as string);
    let status = 200;
    const server = createServer((req, res) => res.writeHead(req.url === '/healthz' ? status : 404).end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = String((server.address() as AddressInfo).port);
    const probe = (): Promise<number> =>
      new Promise((resolve) => {
        execFile(process.execPath, [script], { env: { ...process.env, METRICS_PORT: port } }, (error) =>
          resolve(error === null ? 0 : Number((error as { code?: number }).code ?? 1)),
        );
      });
    try {
      expect(await probe()).toBe(0);
      status = 503;
      expect(await probe()).toBe(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await probe()).toBe(1); // nothing listening
  }, 60_000);
});

/** A .dockerignore pattern as a RegExp (`*` within one path segment, `**` across them). */
function glob(pattern: string): RegExp {
  const body = pattern
    .split('**')
    .map((part) =>
      part
        .split('*')
        .map((t) => t.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^/]*'),
    )
    .join('.*');
  return new RegExp(`^${body}$`);
}
