import { describe, expect, it } from 'vitest';
import { ConfigError } from '@sequor/model';
import {
  UnknownFormatError,
  detectFormat,
  formatNames,
  getFormat,
  parseSourceBindings,
  zeekFormats,
} from '../../src/index.js';

describe('format registry', () => {
  it('knows the Windows formats and the Zeek ones', () => {
    expect(formatNames().slice(0, 3)).toEqual(['winlogbeat', 'flat-windows', 'ecs']);
    for (const z of zeekFormats) expect(getFormat(z.name)).toBe(z);
  });

  it('names the known formats when asked for an unknown one', () => {
    expect(() => getFormat('sysmon-xml')).toThrow(UnknownFormatError);
    expect(() => getFormat('sysmon-xml')).toThrow(/known formats: winlogbeat, flat-windows, ecs/);
  });

  it('detects Windows shapes from a first line', () => {
    expect(
      detectFormat('{"EventID":4624,"Channel":"Security","@timestamp":"2020-01-01T00:00:00Z"}')?.name,
    ).toBe('flat-windows');
    expect(
      detectFormat(
        '{"@timestamp":"2020-01-01T00:00:00Z","winlog":{"channel":"Security"},"event":{"code":"4624"}}',
      )?.name,
    ).toBe('winlogbeat');
    expect(
      detectFormat('{"@timestamp":"2020-01-01T00:00:00Z","event":{"kind":"event"},"file":{"path":"x"}}')
        ?.name,
    ).toBe('ecs');
    expect(detectFormat('{"hello":"world"}')).toBeUndefined();
    expect(detectFormat('not json')).toBeUndefined();
  });
});

describe('parseSourceBindings', () => {
  it('binds topics to formats', () => {
    const b = parseSourceBindings('zeek-dce-rpc:zeek.dce_rpc, winlogbeat:winlogbeat');
    expect(b.map((x) => [x.topic, x.format.name])).toEqual([
      ['zeek.dce_rpc', 'zeek-dce-rpc'],
      ['winlogbeat', 'winlogbeat'],
    ]);
  });

  it.each([
    ['', /at least one/],
    ['winlogbeat:a,,ecs:b', /empty entry/],
    ['winlogbeat', /format:topic, got "winlogbeat"/],
    [':topic', /format:topic/],
    ['winlogbeat:', /format:topic/],
    ['nope:topic', /known format .*known: winlogbeat, flat-windows, ecs/],
    ['ecs:bad/topic', /Kafka topic name/],
    ['ecs:t,winlogbeat:t', /t is bound to ecs and winlogbeat/],
  ])('refuses %j', (spec, message) => {
    let err: unknown;
    try {
      parseSourceBindings(spec, 'SEQUOR_SOURCES');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe('SEQUOR_SOURCES');
    expect((err as Error).message).toMatch(message);
  });
});
