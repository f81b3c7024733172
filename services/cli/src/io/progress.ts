/**
 * The progress line on stderr: events, events/s, alerts, and a bar with an ETA when the total input size
 * is known. Drawn only when stderr is a terminal: in a pipe, a CI log or a test it prints nothing, so
 * stderr carries only the summary. Redrawn at most every 100 ms; `tick` is cheap enough to call per batch.
 */

export interface ProgressSnapshot {
  readonly events: number;
  readonly alerts: number;
  /** Input bytes read so far and in all (null when unknown: stdin). */
  readonly bytes: number;
  readonly totalBytes: number | null;
}

export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): boolean;
}

const REDRAW_MS = 100;

export class ProgressBar {
  private readonly enabled: boolean;
  private readonly started: number;
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly stream: ProgressStream,
    private readonly label: string,
    private readonly now: () => number = Date.now,
  ) {
    this.enabled = stream.isTTY === true;
    this.started = now();
  }

  get active(): boolean {
    return this.enabled;
  }

  /** Redraws when enabled and 100 ms have passed since the last draw. */
  tick(snapshot: () => ProgressSnapshot): void {
    if (!this.enabled) return;
    const t = this.now();
    if (t - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = t;
    this.draw(snapshot(), t);
  }

  /**
   * Erases the line: before the summary, and before results are written to the same terminal (the next
   * tick draws it again).
   */
  clear(): void {
    if (this.enabled && this.drawn) this.stream.write('\r\x1b[2K');
    this.drawn = false;
  }

  private draw(s: ProgressSnapshot, t: number): void {
    const seconds = Math.max(0.001, (t - this.started) / 1000);
    const rate = s.events / seconds;
    let text = `${this.label} ${formatCount(s.events)} events  ${formatCount(rate)}/s  ${s.alerts} alert${s.alerts === 1 ? '' : 's'}`;
    if (s.totalBytes !== null && s.totalBytes > 0) {
      const fraction = Math.min(1, s.bytes / s.totalBytes);
      const width = 20;
      const full = Math.round(fraction * width);
      const eta = fraction > 0 ? (seconds * (1 - fraction)) / fraction : Number.NaN;
      text = `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${(fraction * 100).toFixed(0).padStart(3)}%  ${text}  ETA ${formatDuration(eta)}`;
    }
    // A pseudo-terminal without a window size (script(1), CI) reports 0 columns: do not cut to nothing.
    const columns =
      this.stream.columns !== undefined && this.stream.columns >= 40 ? this.stream.columns : 160;
    this.stream.write(`\r\x1b[2K${text.slice(0, Math.max(10, columns - 1))}`);
    this.drawn = true;
  }
}

/** 1234 -> `1,234`; 1_234_567 -> `1.23M`. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '-';
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  return Math.round(n).toLocaleString('en-US');
}

/** Seconds as `m:ss` (or `h:mm:ss`). */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}
