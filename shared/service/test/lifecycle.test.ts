import { EventEmitter } from 'node:events';
import { ConfigError, SequorError } from '@sequor/model';
import { describe, expect, it } from 'vitest';
import type { RunServiceOptions, Service, ServiceParts } from '../src/lifecycle.js';
import { runService, SERVICE_EXIT, ServiceLifecycle } from '../src/lifecycle.js';

/** A service whose work is a promise the test settles; records what happened, in order. */
function fakeService(steps: string[]) {
  let finish!: () => void;
  let crash!: (error: unknown) => void;
  const work = new Promise<void>((resolve, reject) => {
    finish = resolve;
    crash = reject;
  });
  const lifecycle = new ServiceLifecycle(async () => {
    steps.push('stopped');
    finish(); // as a consumer runner's stop ends its work
  });
  const service: Service = {
    start: async () => {
      steps.push('started');
      lifecycle.follow(work);
    },
    stop: () => lifecycle.stop(),
    done: lifecycle.done,
  };
  return { service, finish, crash };
}

function options(setup: RunServiceOptions['setup'], extra: Partial<RunServiceOptions> = {}) {
  const signals = new EventEmitter();
  const exits: number[] = [];
  const logged: string[] = [];
  const run: RunServiceOptions = {
    setup,
    writeLog: (line) => void logged.push((JSON.parse(line) as { msg: string }).msg),
    env: { LOG_LEVEL: 'error' },
    shutdown: { signalSource: signals as unknown as NodeJS.Process, exit: (code) => void exits.push(code) },
    ...extra,
  };
  return { run, signals, exits, logged };
}

describe('runService', () => {
  it('exits 2 and starts nothing when the configuration is wrong', async () => {
    const { run, logged } = options(async () => {
      throw new ConfigError('ALERTS_TOPIC', '', 'a topic name');
    });
    await expect(runService('svc', run)).resolves.toBe(SERVICE_EXIT.config);
    expect(logged).toEqual(['invalid configuration']);
  });

  it('rethrows a setup failure that is not configuration (runServiceMain prints it, exit 1)', async () => {
    const { run } = options(async () => {
      throw new TypeError('bug');
    });
    await expect(runService('svc', run)).rejects.toThrow('bug');
  });

  it('returns 0 when the work ends, then runs afterStop', async () => {
    const steps: string[] = [];
    const { service, finish } = fakeService(steps);
    const { run } = options(async (): Promise<ServiceParts> => ({
      service,
      afterStop: async () => void steps.push('after'),
    }));
    const code = runService('svc', run);
    await Promise.resolve();
    finish();
    await expect(code).resolves.toBe(SERVICE_EXIT.ok);
    expect(steps).toEqual(['started', 'after']);
  });

  it('on a crash stops the service, then afterStop, and exits 1', async () => {
    const steps: string[] = [];
    const { service, crash } = fakeService(steps);
    const { run, logged } = options(async () => ({
      service,
      afterStop: async () => void steps.push('after'),
    }));
    const code = runService('svc', run);
    await new Promise((resolve) => setImmediate(resolve));
    crash(new Error('broker gone'));
    await expect(code).resolves.toBe(SERVICE_EXIT.failed);
    expect(steps).toEqual(['started', 'stopped', 'after']);
    expect(logged).toEqual(['svc failed']);
  });

  it('exits 2 for a failure the service calls a refusal', async () => {
    class Refused extends SequorError {}
    const steps: string[] = [];
    const { service, crash } = fakeService(steps);
    const { run } = options(async () => ({ service }), {
      refusal: (e) => (e instanceof Refused ? 'refused' : undefined),
    });
    const code = runService('svc', run);
    await new Promise((resolve) => setImmediate(resolve));
    crash(new Refused('no rule loads'));
    await expect(code).resolves.toBe(SERVICE_EXIT.config);
  });

  it('stops what onSignal names on SIGTERM, and done resolves', async () => {
    const steps: string[] = [];
    const { service } = fakeService(steps);
    const onSignal = { stop: async () => void steps.push('signal-stop') };
    const { run, signals, exits } = options(async () => ({ service, onSignal }));
    const code = runService('svc', run);
    await new Promise((resolve) => setImmediate(resolve));
    signals.emit('SIGTERM', 'SIGTERM');
    await new Promise((resolve) => setImmediate(resolve));
    expect(steps).toEqual(['started', 'signal-stop']);
    expect(exits).toEqual([0]);
    await service.stop();
    await expect(code).resolves.toBe(SERVICE_EXIT.ok);
  });
});

describe('ServiceLifecycle', () => {
  it('shuts down once however often stop() is called, and resolves done without followed work', async () => {
    let shutDowns = 0;
    const lifecycle = new ServiceLifecycle(async () => void shutDowns++);
    await Promise.all([lifecycle.stop(), lifecycle.stop()]);
    await lifecycle.stop();
    await expect(lifecycle.done).resolves.toBeUndefined();
    expect(shutDowns).toBe(1);
  });

  it('with work followed, done waits for the work to end after stop()', async () => {
    let end!: () => void;
    const lifecycle = new ServiceLifecycle(async () => undefined);
    lifecycle.follow(new Promise<void>((resolve) => (end = resolve)));
    await lifecycle.stop();
    let settled = false;
    void lifecycle.done.then(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    end();
    await expect(lifecycle.done).resolves.toBeUndefined();
  });

  it('when the followed work crashes, stops first, then rejects done with its error', async () => {
    const steps: string[] = [];
    const lifecycle = new ServiceLifecycle(async () => void steps.push('stopped'));
    const error = new Error('crashed');
    lifecycle.follow(Promise.reject(error));
    await expect(lifecycle.done).rejects.toBe(error);
    expect(steps).toEqual(['stopped']);
  });

  it('a done nobody awaits does not raise an unhandled rejection', async () => {
    const lifecycle = new ServiceLifecycle(async () => undefined);
    lifecycle.follow(Promise.reject(new Error('ignored')));
    await new Promise((resolve) => setTimeout(resolve, 5));
  });
});
