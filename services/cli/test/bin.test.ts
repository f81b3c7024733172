/**
 * `npx sequor` after the README's set-up (`npm ci && npm run build`): npm links a workspace's bins at
 * install time, before dist/ exists, so the bin must be a committed, executable file that runs the build.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertBuilt, cliDir, repoRoot } from './support.js';

const manifest = JSON.parse(readFileSync(path.join(cliDir, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
};
const bin = path.join(cliDir, manifest.bin['sequor'] ?? '');

describe('the sequor bin', () => {
  it('is a committed executable script outside dist/, so npm can link it before the build', () => {
    expect(path.relative(cliDir, bin).startsWith('dist')).toBe(false);
    accessSync(bin, constants.X_OK);
    expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    const tracked = spawnSync('git', ['ls-files', '--stage', path.relative(repoRoot, bin)], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    expect(tracked.stdout).toMatch(/^100755 /);
  });

  it('runs the built command', () => {
    assertBuilt();
    const result = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^usage: sequor <command>/);
  });
});
