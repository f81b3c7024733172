/**
 * Measuring helpers shared by the path modules (a `_` file: not a path itself). Figures are rates over
 * wall time of one timed pass; a pass also records the CPU time of this process, for per-CPU-second
 * figures that a busy machine distorts less.
 */

export interface Pass {
  readonly wallMs: number;
  readonly cpuMs: number;
}

/** Runs `body` once, timed (wall and this process's CPU). */
export async function timed(body: () => unknown): Promise<Pass> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await body();
  const wallMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { wallMs, cpuMs: (used.user + used.system) / 1000 };
}

/**
 * Runs the floor and the figure `rounds` times each, interleaved (floor, figure, floor, figure, …), so a
 * burst of load elsewhere hits both alike, and keeps the cheapest pass of each by `cost`. Each pass
 * measures itself (a child process, a service until its committed end), so it can carry more than a Pass.
 */
export async function bestInterleaved<F extends Pass, G extends Pass>(
  rounds: number,
  floor: () => Promise<F>,
  figure: () => Promise<G>,
  cost: (p: Pass) => number,
  onRound?: (round: number, floor: F, figure: G) => void,
): Promise<{ floor: F; figure: G }> {
  let bestFloor: F | undefined;
  let bestFigure: G | undefined;
  for (let i = 0; i < rounds; i++) {
    const f = await floor();
    if (bestFloor === undefined || cost(f) < cost(bestFloor)) bestFloor = f;
    const g = await figure();
    if (bestFigure === undefined || cost(g) < cost(bestFigure)) bestFigure = g;
    onRound?.(i + 1, f, g);
  }
  if (bestFloor === undefined || bestFigure === undefined) throw new RangeError('rounds must be at least 1');
  return { floor: bestFloor, figure: bestFigure };
}

/** A pass's cost as wall time (broker paths: the work is spread over processes). */
export const byWall = (p: Pass): number => p.wallMs;

/**
 * `bestInterleaved` over two bodies timed here, by 'cpu' (this process's CPU time, GC threads included:
 * what in-process, single-threaded work costs, least distorted by other processes on a shared machine)
 * or 'wall'.
 */
export function interleaved(
  rounds: number,
  floor: () => unknown,
  figure: () => unknown,
  by: 'cpu' | 'wall' = 'cpu',
): Promise<{ floor: Pass; figure: Pass }> {
  return bestInterleaved(
    rounds,
    () => timed(floor),
    () => timed(figure),
    by === 'cpu' ? (p) => p.cpuMs : byWall,
  );
}

/** Items per second of a duration in ms. */
export const perSecond = (items: number, ms: number): number => (ms > 0 ? (items / ms) * 1000 : 0);

/** Judged only at full size: quick runs are too small to mean anything. */
export const judge = (quick: boolean, met: boolean): boolean | undefined => (quick ? undefined : met);

/** p-th percentile (0..100) of the values, nearest rank; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const round = (n: number, digits = 0): number => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};
