import { describe, expect, it } from 'vitest';
import { eventIdFromParts } from '@sequor/model';
import { windowsEventId } from '../../src/windows/event-id.js';

describe('windowsEventId', () => {
  it('is the id of winlog, computer and channel lower-cased, and record number, whatever the case', () => {
    const bytes = new Uint8Array();
    const want = eventIdFromParts('winlog', 'workstation5.theshire.local', 'security', 1234);
    expect(windowsEventId(null, 'WORKSTATION5.theshire.local', 'Security', 1234, bytes)).toBe(want);
    // The channel's part is written once and reused: a second call of the same channel agrees.
    expect(windowsEventId(null, 'workstation5.THESHIRE.local', 'Security', 1234, bytes)).toBe(want);
    expect(windowsEventId(null, 'ws1', 'Microsoft-Windows-Sysmon/Operational', 7, bytes)).toBe(
      eventIdFromParts('winlog', 'ws1', 'microsoft-windows-sysmon/operational', 7),
    );
  });

  it("prefers the shipper's event.id", () => {
    expect(windowsEventId('abc', 'ws1', 'Security', 1, new Uint8Array())).toBe('abc');
  });
});
