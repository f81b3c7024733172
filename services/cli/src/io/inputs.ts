/**
 * The inputs of `detect`, `query` and `replay`: files, directories (every file below, sorted; hidden
 * files skipped; symbolic links followed, each real file read once) and `-` for stdin; each opened as
 * lines with its source format decided from its first lines (`decideFileFormat`: a Zeek TSV log's
 * `#path` header decides, otherwise a vote of the first data lines) unless `--format` names it.
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { SourceFormat } from '@sequor/formats';
import { decideFileFormat, FORMAT_DETECTION_LINES, formatNames, formatRegistry } from '@sequor/formats';
import { InputError, systemReason, UsageError } from '../errors.js';
import { JsonDocumentReader } from './documents.js';
import type { ByteStream, RecordReader } from './lines.js';
import { LineReader, openByteStream } from './lines.js';

/** Lines (and JSON documents) longer than this are refused by the normalizer (its default record limit, 1 MiB). */
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
  /** Found in a directory but not readable (a dangling link): `openInputs` reports it as failed. */
  readonly unreadable?: InputError;
}

export interface OpenInput {
  readonly file: InputFile;
  readonly format: SourceFormat;
  /** Lines, or documents for a format framed as JSON documents (evtx-json). */
  readonly reader: RecordReader;
  readonly stream: ByteStream;
}

/** An input left out: empty, of no known format (found in a directory), or unreadable. */
export interface SkippedInput {
  readonly file: InputFile;
  readonly reason: string;
}

/** What `openInputs` gives: inputs to read, inputs left out with a reason, and inputs that failed. */
export interface OpenedInputs {
  readonly opened: OpenInput[];
  /** Empty files, and files in a directory whose format cannot be told: reported, not a failure. */
  readonly skipped: SkippedInput[];
  /** Inputs that could not be read (a dangling link, permission denied, corrupt gzip): the run fails. */
  readonly failed: InputError[];
}

/**
 * Expands the positional arguments; throws InputError for a path given by name that does not exist.
 * Inside directories, what cannot be listed or followed (a dangling link, a link loop) is listed with its
 * `unreadable` reason, by name, so `openInputs` reports it instead of skipping it silently.
 */
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
      const walk: DirectoryWalk = { files: [], seenDirs: new Set() };
      await walkDirectory(arg, walk);
      if (walk.files.length === 0) throw new InputError(arg, 'directory holds no files');
      files.push(...walk.files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)));
    } else {
      files.push({ path: arg, name: arg, size: info.size, fromDirectory: false });
    }
  }
  // A file named twice is a usage error; one reached twice through directories and links is read once.
  const seen = new Set<string>();
  const unique: InputFile[] = [];
  for (const f of files) {
    if (f.path === '-' || f.unreadable !== undefined) {
      unique.push(f);
      continue;
    }
    const key = await realpath(f.path).catch(() => path.resolve(f.path));
    if (seen.has(key)) {
      if (!f.fromDirectory) throw new UsageError(`${f.path} is given twice`);
      continue;
    }
    seen.add(key);
    unique.push(f);
  }
  return unique;
}

interface DirectoryWalk {
  readonly files: InputFile[];
  /** Real paths of the directories entered: a link back up the tree is a loop, not more files. */
  readonly seenDirs: Set<string>;
}

/**
 * Every file under `dir` (named under `root` as the user gave it). Symbolic links are followed, to files
 * and to directories (Kubernetes log folders are all links); a directory reached again is a loop and is
 * left, and a link that leads nowhere is a failure by name.
 */
async function walkDirectory(dir: string, walk: DirectoryWalk): Promise<void> {
  let entries;
  try {
    const real = await realpath(dir);
    if (walk.seenDirs.has(real)) return;
    walk.seenDirs.add(real);
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    const unreadable = new InputError(dir, `cannot read directory: ${systemReason(error)}`, { cause: error });
    walk.files.push({ path: dir, name: dir, size: 0, fromDirectory: true, unreadable });
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      await walkDirectory(full, walk);
      continue;
    }
    if (!e.isFile() && !e.isSymbolicLink()) continue;
    let info;
    try {
      info = await stat(full);
    } catch (error) {
      const reason =
        e.isSymbolicLink() && (error as NodeJS.ErrnoException).code === 'ENOENT'
          ? 'dangling symbolic link'
          : systemReason(error);
      walk.files.push({
        path: full,
        name: full,
        size: 0,
        fromDirectory: true,
        unreadable: new InputError(full, `cannot read: ${reason}`, { cause: error }),
      });
      continue;
    }
    if (info.isDirectory()) await walkDirectory(full, walk);
    else if (info.isFile()) {
      walk.files.push({ path: full, name: full, size: info.size, fromDirectory: true });
    }
  }
}

/** `--format` checked against the registry. */
export function formatOverride(name: string | undefined): SourceFormat | undefined {
  if (name === undefined) return undefined;
  const format = formatRegistry.get(name);
  if (format === undefined)
    throw new UsageError(
      `--format ${JSON.stringify(name)} is not a format; known: ${formatNames().join(', ')}`,
    );
  return format;
}

/**
 * Opens every input and decides its format. A file given by name whose format cannot be told is an
 * InputError (the user asked for it: pass --format); one found in a directory is skipped with its reason
 * (a scenario directory holds its ground-truth.json beside the logs), as is an empty file. An input that
 * cannot be read is returned in `failed` and the others are still opened: the command reads what it can
 * and exits non-zero.
 */
export async function openInputs(
  files: readonly InputFile[],
  override: SourceFormat | undefined,
): Promise<OpenedInputs> {
  const opened: OpenInput[] = [];
  const skipped: SkippedInput[] = [];
  const failed: InputError[] = [];
  try {
    for (const file of files) {
      if (file.unreadable !== undefined) {
        failed.push(file.unreadable);
        continue;
      }
      let stream: ByteStream;
      try {
        stream = await openByteStream(file.path);
      } catch (error) {
        failed.push(new InputError(file.name, `cannot read: ${systemReason(error)}`, { cause: error }));
        continue;
      }
      const reader = new LineReader(stream, MAX_LINE_BYTES);
      const head = await reader.head(FORMAT_DETECTION_LINES);
      if (reader.failure !== null && head.every((l) => l.trim() === '')) {
        // Nothing readable before the failure: the file cannot be read at all.
        stream.close();
        failed.push(
          new InputError(file.name, `cannot read: ${systemReason(reader.failure.error)}`, {
            cause: reader.failure.error,
          }),
        );
        continue;
      }
      if (head.every((l) => l.trim() === '')) {
        stream.close();
        skipped.push({ file, reason: 'empty (no line but blank ones)' });
        continue;
      }
      const decision = override === undefined ? decideFileFormat(head) : undefined;
      const format = override ?? decision?.format;
      if (format === undefined) {
        stream.close();
        const reason = `cannot tell the source format: ${decision?.reason ?? 'no format reads it'}`;
        if (file.fromDirectory) {
          skipped.push({ file, reason });
          continue;
        }
        throw new InputError(file.name, `${reason}; pass --format (${formatNames().join(', ')})`);
      }
      const records =
        format.framing === 'json-documents' ? new JsonDocumentReader(reader, MAX_LINE_BYTES) : reader;
      opened.push({ file, format, reader: records, stream });
    }
  } catch (error) {
    for (const o of opened) o.stream.close();
    throw error;
  }
  return { opened, skipped, failed };
}

/** Read failures that ended inputs early, after the run: `file: cannot read past line N: reason`. */
export function readFailures(inputs: readonly OpenInput[]): InputError[] {
  return inputs.flatMap((input) => {
    const failure = input.reader.failure;
    if (failure === null) return [];
    const reason = `cannot read past line ${failure.afterLine}: ${systemReason(failure.error)} (the lines before it were read)`;
    return [new InputError(input.file.name, reason, { cause: failure.error })];
  });
}
