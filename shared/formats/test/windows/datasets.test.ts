import { describe, expect, it } from 'vitest';
import type { SequorEvent } from '@sequor/model';
import { NormalizeError, detectFormat, getFormat } from '../../src/index.js';
import { datasetLines } from './helpers.js';

// Every line of every Security-Datasets file through flat-windows: no crash, every failure a typed
// NormalizeError, and the counts below. Files contain exact duplicate lines (same record collected
// twice); those get the same event id by design, so distinct ids = distinct lines.
interface Expected {
  readonly lines: number;
  readonly events: number;
  readonly distinctIds: number;
  readonly errors: Readonly<Record<string, number>>;
  /** Sysmon 13 writes of a service's ImagePath: the Splunk seed's real positives (PROVENANCE.md). */
  readonly serviceImagePathWrites: number;
}

const expected: Readonly<Record<string, Expected>> = {
  'cmd_service_mod_fax.json': {
    lines: 437,
    events: 437,
    distinctIds: 372,
    errors: {},
    serviceImagePathWrites: 2,
  },
  'empire_psexec_dcerpc_tcp_svcctl.json': {
    lines: 4348,
    // With 4 events of channels no mapping knows (TaskScheduler 1, WMI-Activity 3): header and data only.
    events: 4348,
    distinctIds: 4348,
    errors: {},
    serviceImagePathWrites: 1,
  },
  'empire_shell_dcerpc_smb_service_dll_hijack.json': {
    lines: 6349,
    // With Directory Service 2, TaskScheduler 1, WMI-Activity 4.
    events: 6349,
    distinctIds: 6349,
    errors: {},
    serviceImagePathWrites: 0,
  },
  'empire_shell_reg_dump_sam.json': {
    lines: 738,
    events: 738,
    distinctIds: 738,
    errors: {},
    serviceImagePathWrites: 0,
  },
  'reg_disable_eventlog_service_startuptype_modification_via_registry.json': {
    lines: 3872,
    events: 3872,
    distinctIds: 3562,
    errors: {},
    serviceImagePathWrites: 0,
  },
};

const servicesKey = /\\system\\currentcontrolset\\services\\/i;
const enc = new TextEncoder();

describe('flat-windows over every Security-Datasets file', () => {
  it.each(Object.entries(expected))('%s', (file, want) => {
    const lines = datasetLines(file);
    expect(detectFormat(lines[0] as string)?.name).toBe('flat-windows');
    const decoder = getFormat('flat-windows').createDecoder();
    const events: SequorEvent[] = [];
    const errors: Record<string, number> = {};
    lines.forEach((line, offset) => {
      try {
        events.push(...decoder.decode(enc.encode(line), { topic: file, partition: 0, offset }));
      } catch (e) {
        if (!(e instanceof NormalizeError)) throw e;
        expect(e.origin.offset).toBe(offset);
        errors[e.reason] = (errors[e.reason] ?? 0) + 1;
      }
    });
    expect(lines.length).toBe(want.lines);
    expect(events.length).toBe(want.events);
    expect(errors).toEqual(want.errors);
    expect(new Set(events.map((e) => e.event.id)).size).toBe(want.distinctIds);
    expect(new Set(lines).size).toBe(want.distinctIds + (want.lines - want.events));
    for (const ev of events) {
      expect(Number.isFinite(ev.timestamp)).toBe(true);
      expect(ev.host?.id).toMatch(/^name:[a-z0-9-]+$/);
    }
    const imagePathWrites = events.filter(
      (e) =>
        e.event.code === '13' && e.registry?.value === 'ImagePath' && servicesKey.test(e.registry.path ?? ''),
    );
    expect(imagePathWrites.length).toBe(want.serviceImagePathWrites);
  });
});
