/**
 * The inputs of `detect`, `query` and `replay`: files, directories (every file below, sorted; hidden
 * files skipped) and `-` for stdin; each opened as lines with its source format detected from its first
 * lines (`detectFileFormat`: a Zeek TSV log's `#path` header decides) unless `--format` names it.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { SourceFormat } from '@sequor/formats';
import { detectFileFormat, FORMAT_DETECTION_LINES, formatNames, formatRegistry } from '@sequor/formats';
import { InputError, systemReason, UsageError } from '../errors.js';
import type { ByteStream } from './lines.js';
import { LineReader, openByteStream } from './lines.js';

/** Lines longer than this are refused by the normalizer (its default record limit, 1 MiB). */
export const MAX_LINE_BYTES = 1 << 20;

export interface InputFile {
  /** As given on the command line (or joined under a given directory); `-` is stdin. */
  readonly path: string;
  /** What alerts and dead letters name as the source: the path, or `stdin`. */
  readonly name: string;
  /** Size on disk (compressed for gzip); null for stdin. */
  readonly size: number | null;
  /** Found by walking a directory (an undetectable file is then skipped, not an error). */
  readonly fromDirectory: boolean;
}

export interface OpenInput {
  readonly file: InputFile;
  readonly format: SourceFormat;
  readonly reader: LineReader;
  readonly stream: ByteStream;
}

export interface SkippedInput {
  readonly file: InputFile;
  readonly reason: string;
}

/** Expands the positional arguments; throws InputError for a path that does not exist. */
export async function expandInputs(args: readonly string[]): Promise<InputFile[]> {
  if (args.length === 0) throw new UsageError('no input: give files, directories or - for stdin');
  const files: InputFile[] = [];
  let stdin = false;
  for (const arg of args) {
    if (arg === '-') {
      if (stdin) throw new UsageError('- (stdin) is given twice');
      stdin = true;
      files.push({ path: '-', name: 'stdin', size: null, fromDirectory: false });
      continue;
    }
    let info;
    try {
      info = await stat(arg);
    } catch (error) {
      throw new InputError(arg, `cannot read: ${systemReason(error)}`, { cause: error });
    }
    if (info.isDirectory()) {
      const found = await filesUnder(arg);
      if (found.length === 0) throw new InputError(arg, 'directory holds no files');
      files.push(...found);
    } else {
      files.push({ path: arg, name: arg, size: info.size, fromDirectory: false });
    }
  }
  const seen = new Set<string>();
  for (const f of files) {
    const key = path.resolve(f.path);
    if (f.path !== '-' && seen.has(key)) throw new UsageError(`${f.path} is given twice`);
    seen.add(key);
  }
  return files;
}

async function filesUnder(dir: string): Promise<InputFile[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch (error) {
    throw new InputError(dir, `cannot read directory: ${systemReason(error)}`, { cause: error });
  }
  const out: InputFile[] = [];
  for (const e of entries) {
    if (!e.isFile()) continue;
    const full = path.join(e.parentPath, e.name);
    if (path.relative(dir, full).split(path.sep).some((part) => part.startsWith('.'))) continue;
    const info = await stat(full);
    out.push({ path: full, name: full, size: info.size, fromDirectory: true });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** `--format` checked against the registry. */
export function formatOverride(name: string | undefined): SourceFormat | undefined {
  if (name === undefined) return undefined;
  const format = formatRegistry.get(name);
  if (format === undefined) throw new UsageError(`--format ${JSON.stringify(name)} is not a format; known: ${formatNames().join(', ')}`);
  return format;
}

/**
 * Opens every input and decides its format. A file given by name whose format cannot be told is an
 * InputError (the user asked for it); one found in a directory is skipped and reported (a scenario
 * directory holds its ground-truth.json beside the logs). Empty files are skipped.
 */
export async function openInputs(
  files: readonly InputFile[],
  override: SourceFormat | undefined,
): Promise<{ opened: OpenInput[]; skipped: SkippedInput[] }> {
  const opened: OpenInput[] = [];
  const skipped: SkippedInput[] = [];
  try {
    for (const file of files) {
      let stream: ByteStream;
      let head: string[];
      let reader: LineReader;
      try {
        stream = await openByteStream(file.path);
        reader = new LineReader(stream, MAX_LINE_BYTES);
        head = await reader.head(FORMAT_DETECTION_LINES);
      } catch (error) {
        throw new InputError(file.name, `cannot read: ${systemReason(error)}`, { cause: error });
      }
      if (head.every((l) => l.trim() === '')) {
        stream.close();
        skipped.push({ file, reason: 'empty' });
        continue;
      }
      const format = override ?? detectFileFormat(head);
      if (format === undefined) {
        stream.close();
        const sample = (head.find((l) => l.trim() !== '' && !l.startsWith('#')) ?? head[0] ?? '').slice(0, 60);
        const reason = `cannot tell the source format (first line ${JSON.stringify(sample)}); pass --format (${formatNames().join(', ')})`;
        if (file.fromDirectory) {
          skipped.push({ file, reason: 'not a known source format' });
          continue;
        }
        throw new InputError(file.name, reason);
      }
      opened.push({ file, format, reader, stream });
    }
  } catch (error) {
    for (const o of opened) o.stream.close();
    throw error;
  }
  return { opened, skipped };
}
