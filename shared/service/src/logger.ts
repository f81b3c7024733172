/**
 * One structured logger for every Sequor process (services, CLI commands, tests): JSON lines on stderr.
 * Here rather than in `@sequor/kafka` so a process logs the same way whether or not it talks to Kafka;
 * `@sequor/kafka` routes kafkajs's own logs into it.
 */
import type { Env } from '@sequor/model';
import { envOneOf } from '@sequor/model';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * One structured logger for every Sequor process: JSON lines on stderr,
 * `{"ts":"2025-01-01T00:00:00.000Z","level":"info","logger":"detector","msg":"...", ...fields}`.
 */
export interface Logger {
  readonly name: string;
  readonly level: LogLevel;
  error(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  /** False when `level` would be dropped: skip building expensive fields. */
  isEnabled(level: LogLevel): boolean;
  /** A logger named `<name>.<suffix>` writing to the same place at the same level. */
  child(suffix: string): Logger;
}

export interface LoggerOptions {
  /** Defaults to `LOG_LEVEL` from the environment, else `info`. */
  readonly level?: LogLevel;
  /** Where each JSON line (with its newline) goes; defaults to `process.stderr`. */
  readonly write?: (line: string) => void;
  /** Clock for `ts`; tests pin it. */
  readonly now?: () => Date;
}

const SEVERITY: Readonly<Record<LogLevel, number>> = { error: 0, warn: 1, info: 2, debug: 3 };
const RESERVED = new Set(['ts', 'level', 'logger', 'msg']);

/** Parses `LOG_LEVEL`; unset means `info`, anything else unknown is a `ConfigError`. */
export function logLevelFromEnv(env: Env): LogLevel {
  return envOneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info');
}

/** Creates the logger for one component; `name` is what the `logger` field will say. */
export function createLogger(name: string, options: LoggerOptions = {}): Logger {
  const level = options.level ?? logLevelFromEnv(process.env);
  const write = options.write ?? ((line: string) => void process.stderr.write(line));
  const now = options.now ?? (() => new Date());
  return new JsonLogger(name, level, write, now);
}

class JsonLogger implements Logger {
  private readonly threshold: number;

  constructor(
    readonly name: string,
    readonly level: LogLevel,
    private readonly write: (line: string) => void,
    private readonly now: () => Date,
  ) {
    this.threshold = SEVERITY[level];
  }

  isEnabled(level: LogLevel): boolean {
    return SEVERITY[level] <= this.threshold;
  }

  error(msg: string, fields?: LogFields): void {
    this.log('error', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.log('warn', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.log('info', msg, fields);
  }
  debug(msg: string, fields?: LogFields): void {
    this.log('debug', msg, fields);
  }

  child(suffix: string): Logger {
    return new JsonLogger(`${this.name}.${suffix}`, this.level, this.write, this.now);
  }

  private log(level: LogLevel, msg: string, fields: LogFields | undefined): void {
    if (SEVERITY[level] > this.threshold) return;
    const entry: Record<string, unknown> = { ts: this.now().toISOString(), level, logger: this.name, msg };
    if (fields !== undefined) {
      for (const key of Object.keys(fields)) {
        // A field may not overwrite the envelope; it keeps its value under a prefixed name.
        entry[RESERVED.has(key) ? `field.${key}` : key] = fields[key];
      }
    }
    this.write(`${JSON.stringify(entry, jsonSafe)}\n`);
  }
}

/** Errors become `{name, message, ...}` (JSON.stringify drops their own properties); Buffers, bigints, a summary. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const plain: Record<string, unknown> = { name: value.name, message: value.message };
    for (const key of Object.keys(value)) plain[key] = (value as unknown as Record<string, unknown>)[key];
    if (value.cause !== undefined) plain.cause = value.cause;
    return plain;
  }
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'Buffer') {
    return `<${((value as { data?: unknown[] }).data ?? []).length} bytes>`;
  }
  return value;
}
