/**
 * The scenarios' order for `@sequor/model`'s `BinaryHeap`: (key, seq), where `seq` is the insertion
 * order, so equal keys come out first in, first out and the output never depends on the heap's layout.
 */
export interface HeapItem {
  readonly key: number;
  readonly seq: number;
}

export function keyThenSeq(x: HeapItem, y: HeapItem): boolean {
  return x.key < y.key || (x.key === y.key && x.seq < y.seq);
}
