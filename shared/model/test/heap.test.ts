import { describe, expect, it } from 'vitest';
import { BinaryHeap } from '../src/heap.js';

interface Job {
  due: number;
  readonly seq: number;
}
const order = (a: Job, b: Job): boolean => a.due < b.due || (a.due === b.due && a.seq < b.seq);

describe('BinaryHeap', () => {
  it('pops in the order of its comparator, equal keys first in first out, across interleaved pushes', () => {
    let seed = 5;
    const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const heap = new BinaryHeap<Job>(order);
    const popped: Job[] = [];
    for (let seq = 0; seq < 3_000; seq++) {
      heap.push({ due: Math.floor(random() * 40), seq });
      if (random() < 0.3) popped.push(heap.pop()!);
    }
    const rest: Job[] = [];
    for (let next = heap.pop(); next !== undefined; next = heap.pop()) rest.push(next);
    expect(rest).toEqual([...rest].sort((a, b) => a.due - b.due || a.seq - b.seq));
    expect([...popped, ...rest].map((job) => job.seq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 3_000 }, (_, index) => index),
    );
    expect(heap.peek()).toBeUndefined();
    expect(heap.size).toBe(0);
  });

  it('restores order when the least item grows in place (updateTop), and clears', () => {
    const heap = new BinaryHeap<Job>(order);
    const jobs = [5, 1, 3, 1].map((due, seq) => ({ due, seq }));
    for (const job of jobs) heap.push(job);
    heap.peek()!.due = 4; // seq 1 moves behind seq 2 (3) and seq 3 (1)
    heap.updateTop();
    const out: number[] = [];
    for (let next = heap.pop(); next !== undefined; next = heap.pop()) out.push(next.seq);
    expect(out).toEqual([3, 2, 1, 0]);
    heap.push({ due: 1, seq: 9 });
    heap.clear();
    expect(heap.size).toBe(0);
  });
});
