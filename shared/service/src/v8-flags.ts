/**
 * The V8 settings every Sequor process runs with, applied once at its start (`runServiceMain`, the
 * `sequor` command, the benchmarks: they measure what the services run).
 *
 * Allocation-site pretenuring off. V8 watches where objects are allocated and, once most objects of one
 * allocation site outlive a young-generation collection, allocates that site's objects in the old
 * generation from then on. A stream processor holds each event a while (the batch, the reorder buffer
 * within the lateness, sequence state) and then drops it: the decoders' sites are judged long-lived and
 * every event decoded after that is born old, garbage that only a full collection reclaims, each of its
 * young strings a remembered-set entry that makes every scavenge slower. Measured: with 50,000 decoded
 * events held, the Sigma projection's decode 7.5 -> 3.5 us per record (scavenges 8-13 -> 1 ms); the
 * detector's per-record work with every SigmaHQ rule, 60 s of lateness, 50k-53k -> 63k records/CPU-s
 * (5 s: 1.06x). Objects that do live long are copied once more on their way to the old generation: our
 * long-lived state is small beside the stream.
 */
import { setFlagsFromString } from 'node:v8';

export const V8_FLAGS: readonly string[] = ['--no-allocation-site-pretenuring'];

let applied = false;

/** Sets `V8_FLAGS` (once; later calls do nothing). Call before the process does its work. */
export function applyV8Flags(): void {
  if (applied) return;
  applied = true;
  for (const flag of V8_FLAGS) setFlagsFromString(flag);
}
