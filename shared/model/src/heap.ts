/**
 * A binary min-heap under a strict order `less`, the one heap of the code base: the reorder stage orders
 * events by event time with it, the CLI merges files by head time, scenarios schedule events. Give
 * `less` a total order (end it with an arrival or insertion index) and equal keys come out first in,
 * first out, so the output never depends on the heap's layout.
 *
 * @example
 * const heap = new BinaryHeap<Job>((a, b) => a.due < b.due || (a.due === b.due && a.seq < b.seq));
 * heap.push(job);
 * while (heap.size > 0 && heap.peek()!.due <= now) run(heap.pop()!);
 */
export class BinaryHeap<T> {
  private items: T[] = [];

  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  /** The least item, without removing it. */
  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const items = this.items;
    const less = this.less;
    // Moves parents down into a hole instead of swapping: one write per level.
    let index = items.length;
    items.push(item);
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const above = items[parent] as T;
      if (!less(item, above)) break;
      items[index] = above;
      index = parent;
    }
    items[index] = item;
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0) this.siftDown(last as T);
    return top;
  }

  /** The least item's key grew in place (a cursor moved on): moves it down to where it now belongs. */
  updateTop(): void {
    if (this.items.length > 1) this.siftDown(this.items[0] as T);
  }

  clear(): void {
    this.items = [];
  }

  /** Puts `item` at the root's place and sifts it down. */
  private siftDown(item: T): void {
    const items = this.items;
    const less = this.less;
    const length = items.length;
    let index = 0;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= length) break;
      const right = child + 1;
      if (right < length && less(items[right] as T, items[child] as T)) child = right;
      const below = items[child] as T;
      if (!less(below, item)) break;
      items[index] = below;
      index = child;
    }
    items[index] = item;
  }
}
