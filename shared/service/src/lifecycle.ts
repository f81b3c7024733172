/**
 * The life of a service process, written once for the normalizer and the detector: start, run until a
 * signal or a crash, stop in order (the service's last batch commits before what outlives it, telemetry,
 * is flushed), and an exit code that says which way it ended.
 */
import { ConfigError } from '@sequor/model';
import type { Logger } from './logger.js';
import { createLogger, logLevelFromEnv } from './logger.js';
import { applyV8Flags } from './v8-flags.js';

/** Something that stops gracefully: what `installShutdownHandlers` needs. */
export interface Stoppable {
  stop(): Promise<void>;
}

/** A long-running service: started once, stopped once, `done` telling how it ended. */
export interface Service extends Stoppable {
  start(): Promise<void>;
  /** Settles when the service stopped: resolves after `stop()`, rejects if its work crashed. */
  readonly done: Promise<void>;
}

/** Exit codes of every service process. */
export const SERVICE_EXIT = { ok: 0, failed: 1, config: 2 } as const;

export interface ShutdownOptions {
  readonly signals?: readonly NodeJS.Signals[];
  /** Exit anyway (code 1) if stopping takes longer. Default 30 s. */
  readonly timeoutMs?: number;
  /** Called with the exit code once stopped; default `process.exit`. */
  readonly exit?: (code: number) => void;
  /** Where signals come from; default `process`. */
  readonly signalSource?: Pick<NodeJS.Process, 'on' | 'off'>;
}

/**
 * On SIGTERM or SIGINT, stops `target` gracefully and exits 0 (1 if stopping failed or timed out); a
 * second signal exits at once with 1. Returns a function that removes the handlers.
 */
export function installShutdownHandlers(
  target: Stoppable,
  logger: Logger,
  options: ShutdownOptions = {},
): () => void {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const timeoutMs = options.timeoutMs ?? 30_000;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const source = options.signalSource ?? process;
  let shuttingDown = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (shuttingDown) {
      logger.warn('second signal during shutdown: exiting now', { signal });
      exit(1);
      return;
    }
    shuttingDown = true;
    logger.info('shutting down', { signal, timeoutMs });
    const timer = setTimeout(() => {
      logger.error('graceful shutdown timed out: exiting', { timeoutMs });
      exit(1);
    }, timeoutMs);
    timer.unref();
    target.stop().then(
      () => {
        clearTimeout(timer);
        logger.info('shut down cleanly');
        exit(0);
      },
      (error: unknown) => {
        clearTimeout(timer);
        logger.error('shutdown failed', { error });
        exit(1);
      },
    );
  };
  for (const signal of signals) source.on(signal, handler);
  return () => {
    for (const signal of signals) source.off(signal, handler);
  };
}

/**
 * Runs a service's `main` (after `applyV8Flags`) and turns its result into the process exit code: 0 leaves the process to end
 * (after a signal, installShutdownHandlers exits once the stop completes), anything else exits now; an
 * unexpected rejection prints its stack under the service's name and exits 1.
 */
export function runServiceMain(name: string, main: () => Promise<number>): void {
  applyV8Flags();
  main().then(
    (code) => {
      process.exitCode = code;
      if (code !== 0) process.exit(code);
    },
    (error: unknown) => {
      process.stderr.write(
        `${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}

/** What `setup` builds: the service, and what stops after it. */
export interface ServiceParts {
  readonly service: Service;
  /** What a signal stops; default the service. Telemetry's `shutdownAfter(service, onTelemetryError)` flushes spans after it. */
  readonly onSignal?: Stoppable;
  /** Runs once the service has ended, however it ended (shuts telemetry down); must not throw. */
  readonly afterStop?: () => Promise<void>;
}

export interface RunServiceOptions {
  /** Reads the configuration and builds the service; a ConfigError here exits 2. */
  readonly setup: (logger: Logger) => Promise<ServiceParts>;
  /**
   * The log message for a failure that is the operator's to fix (exit 2, like a ConfigError), e.g. a rule
   * set the detector refuses; undefined for a crash (exit 1).
   */
  readonly refusal?: (error: unknown) => string | undefined;
  readonly shutdown?: ShutdownOptions;
  /** Where the logger gets its level; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Where log lines go; default stderr (tests read them). */
  readonly writeLog?: (line: string) => void;
}

/**
 * A service's main, start to exit code: a logger named `name` (at `LOG_LEVEL`), the configuration, the
 * signal handlers, `start()`, then wait for `done`. 0 after a clean stop (the signal handler exits), 2
 * when the configuration (or a `refusal`) is at fault, 1 on a crash; a failed service is stopped before
 * `afterStop` runs.
 */
export async function runService(name: string, options: RunServiceOptions): Promise<number> {
  // The level comes from the environment, which may itself be wrong: log that at info.
  const write = options.writeLog;
  let logger = createLogger(name, { level: 'info', ...(write === undefined ? {} : { write }) });
  let parts: ServiceParts;
  try {
    logger = createLogger(name, {
      level: logLevelFromEnv(options.env ?? process.env),
      ...(write === undefined ? {} : { write }),
    });
    parts = await options.setup(logger);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    logger.error('invalid configuration', { error });
    return SERVICE_EXIT.config;
  }
  const { service } = parts;
  installShutdownHandlers(parts.onSignal ?? service, logger, options.shutdown);
  try {
    await service.start();
    await service.done;
    return SERVICE_EXIT.ok;
  } catch (error) {
    const refused = error instanceof ConfigError ? 'invalid configuration' : options.refusal?.(error);
    logger.error(refused ?? `${name} failed`, { error });
    await service.stop().catch(() => undefined);
    return refused === undefined ? SERVICE_EXIT.failed : SERVICE_EXIT.config;
  } finally {
    await parts.afterStop?.();
  }
}

/**
 * The `done` and `stop()` of a service, the same in both: `stop()` runs `shutDown` once however often it
 * is called; `done` resolves after that, or follows the work the service runs (its consumer): resolved
 * when the work ends, rejected (after stopping) when it crashes.
 */
export class ServiceLifecycle {
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private rejectDone!: (error: unknown) => void;
  private stopping: Promise<void> | undefined;
  private following = false;

  constructor(private readonly shutDown: () => Promise<void>) {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // Nobody may await `done` (a test that only calls stop()): no unhandled rejection then.
    this.done.catch(() => undefined);
  }

  /** `done` from now on settles with `work`: a crash stops the service first, then rejects `done`. */
  follow(work: Promise<void>): void {
    this.following = true;
    work.then(
      () => this.resolveDone(),
      (error: unknown) => void this.stop().finally(() => this.rejectDone(error)),
    );
  }

  stop(): Promise<void> {
    this.stopping ??= this.run();
    return this.stopping;
  }

  private async run(): Promise<void> {
    try {
      await this.shutDown();
    } finally {
      // With work followed, `done` takes the work's own outcome (a crash rejects it).
      if (!this.following) this.resolveDone();
    }
  }
}
