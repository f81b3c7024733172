/**
 * The only source of randomness in the generator: xoshiro128** seeded through splitmix32. Same seed,
 * same numbers, on every platform (32-bit integer arithmetic via Math.imul, no floating-point state).
 * Independent concerns (world, noise, arrival jitter, late events) draw from separate forks so that
 * turning one knob (say, out-of-order jitter) does not change what another one generates.
 */

/** A 32-bit hash of a string (FNV-1a followed by a murmur3 finalizer), for seeds and fork labels. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A numeric seed is used as is (as uint32); a string seed is hashed. */
export function seedToUint32(seed: number | string): number {
  return typeof seed === 'number' ? seed >>> 0 : hashString(seed);
}

const HEX = '0123456789abcdef';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private readonly seed: number;

  constructor(seed: number) {
    this.seed = seed >>> 0;
    // splitmix32 spreads a single 32-bit seed over the 128-bit state (never all zero).
    let x = this.seed;
    const next = (): number => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next() | 1;
  }

  /** A new, independent stream derived from this one's seed and a label (not from its current state). */
  fork(label: string): Rng {
    return new Rng(fmix32(this.seed ^ hashString(label)));
  }

  uint32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.int(items.length)] as T;
  }

  /** Exponentially distributed with the given mean (inter-arrival times of a Poisson process). */
  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }

  hex(chars: number): string {
    return this.fromAlphabet(HEX, chars);
  }

  alnum(chars: number): string {
    return this.fromAlphabet(ALNUM, chars);
  }

  upper(chars: number): string {
    return this.fromAlphabet(UPPER, chars);
  }

  letters(chars: number): string {
    return this.fromAlphabet(LETTERS, chars);
  }

  /** A version-4 style UUID, lower case. */
  uuid(): string {
    const h = this.hex(32);
    const variant = HEX[8 + this.int(4)] as string;
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  private fromAlphabet(alphabet: string, chars: number): string {
    let out = '';
    for (let i = 0; i < chars; i++) out += alphabet[this.int(alphabet.length)];
    return out;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
