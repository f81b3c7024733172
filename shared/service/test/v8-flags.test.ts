// The V8 settings every process starts with (`applyV8Flags`, run by `runServiceMain`): checked in a
// child node, where V8's own `%InYoungGeneration` tells whether objects of a site V8 has seen survive are
// still born young. The child imports the built package (`npm test` builds the workspace first).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = pathToFileURL(
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/index.js'),
).href;

const ROUNDS = 40;
/**
 * Imports the built package as `service`. A full collection after the setup starts each case from the same
 * heap history (without it, the import's own garbage can leave V8 not pretenuring for a while).
 */
const importService = `const service = await import(${JSON.stringify(dist)});`;
/**
 * Runs `setup` (ESM source; `importService` binds `service` to the package) in a child, then holds objects of one
 * allocation site, 100,000 a round (as a processor holds events), and after each round makes one more:
 * returns the round after which it was born old (V8 pretenured the site), or -1 if it never was in
 * `ROUNDS` rounds.
 */
function roundPretenured(setup: string): number {
  const script = `
    ${setup}
    globalThis.gc();
    const make = (i) => ({ a: i, b: 'x' + i, c: null });
    const young = new Function('o', 'return %InYoungGeneration(o)');
    const held = [];
    let at = -1;
    for (let r = 1; r <= ${ROUNDS} && at < 0; r++) {
      for (let i = 0; i < 100000; i++) held.push(make(i));
      if (!young(make(r))) at = r;
    }
    process.stdout.write(String(at));
  `;
  const child = spawnSync(
    process.execPath,
    ['--allow-natives-syntax', '--expose-gc', '--input-type=module', '-e', script],
    {
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  expect(child.stderr).toBe('');
  return Number(child.stdout);
}

// Each case starts a node and allocates a few million objects: ~1 s, more on a loaded machine.
describe('applyV8Flags', { timeout: 60_000 }, () => {
  it('V8 alone pretenures a site whose objects survive: the case the flag is for', () => {
    expect(roundPretenured(importService)).toBeGreaterThan(0);
  });

  it('keeps such a site young, so events held a while and dropped die in a scavenge', () => {
    expect(roundPretenured(`${importService} service.applyV8Flags();`)).toBe(-1);
  });

  it('is applied by runServiceMain before the service runs', () => {
    const setup = `${importService} await new Promise((resolve) => service.runServiceMain('probe', async () => { resolve(); return 0; }));`;
    expect(roundPretenured(setup)).toBe(-1);
  });
});
