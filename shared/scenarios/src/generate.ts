/**
 * The library's two entry points: `generateScenario` (pure, in memory, for tests and small runs) and
 * `writeScenario` (the only I/O: streams lines to files, for sizes that do not fit in memory).
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { GroundTruth } from './ground-truth.js';
import { formatGroundTruth } from './ground-truth.js';
import type { ScenarioOptions } from './options.js';
import { SCENARIO_FILES, ScenarioStream } from './stream.js';

export interface GeneratedScenario {
  /** Relative path -> content (each line ends with "\n"), ground-truth.json included. */
  readonly files: Map<string, string>;
  readonly groundTruth: GroundTruth;
}

/** Everything in memory. Same options, same bytes. */
export function generateScenario(options: ScenarioOptions = {}): GeneratedScenario {
  const run = new ScenarioStream(options);
  const parts = new Map<string, string[]>();
  for (const path of run.paths) parts.set(path, []);
  for (const r of run.records()) (parts.get(r.file) as string[]).push(r.line);
  const groundTruth = run.groundTruth();
  const files = new Map<string, string>();
  for (const [path, lines] of parts) files.set(path, lines.length === 0 ? '' : `${lines.join('\n')}\n`);
  files.set(SCENARIO_FILES.groundTruth, formatGroundTruth(groundTruth));
  return { files, groundTruth };
}

export interface WriteResult {
  readonly dir: string;
  /** Relative paths written, ground-truth.json last. */
  readonly files: readonly string[];
  readonly groundTruth: GroundTruth;
}

/** Lines are gathered per file up to this many characters before one write (fewer syscalls). */
const CHUNK_CHARS = 1 << 20;

/**
 * Generate into `dir` (created if missing; existing files of the same names are replaced), streaming:
 * memory stays bounded whatever `events` is. ground-truth.json is written last, so its presence
 * means the data files are complete.
 */
export async function writeScenario(dir: string, options: ScenarioOptions = {}): Promise<WriteResult> {
  const run = new ScenarioStream(options);
  const outputs = new Map<string, { stream: WriteStream; buffer: string[]; chars: number }>();
  for (const path of run.paths) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    outputs.set(path, { stream: createWriteStream(join(dir, path)), buffer: [], chars: 0 });
  }
  const flush = async (o: { stream: WriteStream; buffer: string[]; chars: number }): Promise<void> => {
    if (o.buffer.length === 0) return;
    const text = `${o.buffer.join('\n')}\n`;
    o.buffer.length = 0;
    o.chars = 0;
    if (!o.stream.write(text)) await once(o.stream, 'drain');
  };
  try {
    for (const r of run.records()) {
      const o = outputs.get(r.file);
      if (o === undefined) continue;
      o.buffer.push(r.line);
      o.chars += r.line.length + 1;
      if (o.chars >= CHUNK_CHARS) await flush(o);
    }
    for (const o of outputs.values()) {
      await flush(o);
      o.stream.end();
      await once(o.stream, 'finish');
    }
  } catch (e) {
    for (const o of outputs.values()) o.stream.destroy();
    throw e;
  }
  const groundTruth = run.groundTruth();
  const gtPath = join(dir, SCENARIO_FILES.groundTruth);
  const gt = createWriteStream(gtPath);
  gt.end(formatGroundTruth(groundTruth));
  await once(gt, 'finish');
  return { dir, files: [...run.paths, SCENARIO_FILES.groundTruth], groundTruth };
}
