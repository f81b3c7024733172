/** Events placed in time, before they are written in a format; shared by the noise and the scenarios. */
import type { RawEvent } from './events.js';
import type { HeapItem } from './heap.js';
import type { Host } from './world.js';

export interface TimedEvent extends HeapItem {
  /** Event time, epoch ms (the heap key). */
  readonly key: number;
  readonly seq: number;
  /** The machine whose collector writes it; null for the Zeek sensor. */
  readonly host: Host | null;
  readonly ev: RawEvent;
  /** Index into the plan's events when ground truth refers to this event, else -1. */
  readonly tag: number;
  /** A late noise event: arrives right after `follower`'s anchor (see NoiseGenerator). */
  readonly late: boolean;
  follower: TimedEvent | null;
}

/**
 * Scenario logons reserve (host, user SID) for a time window; the noise never makes a network logon
 * for a reserved pair, so at most one logon is pending per sequence key and ground truth stays exact.
 */
export class LogonReservations {
  private readonly windows = new Map<string, number[]>();

  add(host: Host, sid: string, from: number, to: number): void {
    const key = `${host.index}|${sid}`;
    const list = this.windows.get(key);
    if (list === undefined) this.windows.set(key, [from, to]);
    else list.push(from, to);
  }

  overlaps(host: Host, sid: string, from: number, to: number): boolean {
    const list = this.windows.get(`${host.index}|${sid}`);
    if (list === undefined) return false;
    for (let i = 0; i < list.length; i += 2) {
      if ((list[i] as number) <= to && from <= (list[i + 1] as number)) return true;
    }
    return false;
  }

  isReserved(host: Host, sid: string, ts: number): boolean {
    return this.overlaps(host, sid, ts, ts);
  }
}
