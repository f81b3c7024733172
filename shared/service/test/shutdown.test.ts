import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { installShutdownHandlers } from '../src/lifecycle.js';
import { createLogger } from '../src/logger.js';

const logger = createLogger('test', { level: 'error', write: () => undefined });

function setup(stop: () => Promise<void>, timeoutMs = 30_000) {
  const source = new EventEmitter();
  const exits: number[] = [];
  let exited!: () => void;
  const exitedOnce = new Promise<void>((resolve) => (exited = resolve));
  const uninstall = installShutdownHandlers({ stop }, logger, {
    signalSource: source as unknown as NodeJS.Process,
    timeoutMs,
    exit: (code) => {
      exits.push(code);
      exited();
    },
  });
  return { source, exits, exitedOnce, uninstall };
}

describe('installShutdownHandlers', () => {
  it('stops the target on SIGTERM and exits 0 once it has stopped', async () => {
    let stops = 0;
    const { source, exits, exitedOnce } = setup(async () => void stops++);
    source.emit('SIGTERM', 'SIGTERM');
    await exitedOnce;
    expect([stops, exits]).toEqual([1, [0]]);
  });

  it('exits 1 when stopping fails', async () => {
    const { source, exits, exitedOnce } = setup(() => Promise.reject(new Error('commit failed')));
    source.emit('SIGINT', 'SIGINT');
    await exitedOnce;
    expect(exits).toEqual([1]);
  });

  it('exits 1 at once on a second signal while stopping', async () => {
    const { source, exits } = setup(() => new Promise(() => undefined));
    source.emit('SIGTERM', 'SIGTERM');
    source.emit('SIGINT', 'SIGINT');
    expect(exits).toEqual([1]);
  });

  it('exits 1 when stopping outlasts the timeout', async () => {
    const { source, exits, exitedOnce } = setup(() => new Promise(() => undefined), 10);
    source.emit('SIGTERM', 'SIGTERM');
    await exitedOnce;
    expect(exits).toEqual([1]);
  });

  it('removes its listeners when uninstalled', () => {
    const { source, uninstall } = setup(async () => undefined);
    expect(source.listenerCount('SIGTERM')).toBe(1);
    uninstall();
    expect([source.listenerCount('SIGTERM'), source.listenerCount('SIGINT')]).toEqual([0, 0]);
  });
});
