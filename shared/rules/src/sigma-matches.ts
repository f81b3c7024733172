/**
 * What the filter dispatch last learnt from a `SigmaRuleSet`: the event it matched and which of the set's
 * rules that event matched. The engine still calls each dispatched Sigma filter's own predicate (it may
 * guard it with exceptions, and a dispatch may over-approximate); for the event just matched, the rule's
 * predicate answers from here instead of running its detection a second time through a view of its own
 * (a second read and lower-casing of every field it tests, ~1 kB of garbage per matching event).
 * Exact: `SigmaRuleSet.match` returns the rules whose `matches` holds for the event, no more, no
 * fewer (the sigma package's `sigmahq.test.ts` checks it over SigmaHQ's rules and regression events),
 * and an event object is not changed while the processor handles it. Any other event (a reordered one,
 * a rule run without a dispatch) is matched as before, and so is a rule that threw on the event, or every
 * rule when the set itself threw: its predicate runs the detection itself (and throws, to be reported
 * where it runs) instead of taking "not matched" from here.
 */
import type { CompiledSigmaRule, SigmaRuleSet } from '@sequor/sigma';

const NO_FAILED: readonly { readonly rule: CompiledSigmaRule }[] = Object.freeze([]);

export class SigmaSetMatches {
  private event: object | null = null;
  private generation = 0;
  /** Per rule (its position in the set's `rules`), the generation whose event it matched. */
  private readonly matchedAt: Uint32Array;
  /** Per rule, the generation whose event it threw on: not decided for that event. */
  private readonly failedAt: Uint32Array;
  private readonly positions: ReadonlyMap<CompiledSigmaRule, number>;

  constructor(readonly set: SigmaRuleSet) {
    this.matchedAt = new Uint32Array(set.rules.length);
    this.failedAt = new Uint32Array(set.rules.length);
    this.positions = new Map(set.rules.map((rule, i) => [rule, i]));
  }

  /** The position of `rule` in the set's `rules` (the key `decided` takes); -1 when it is not one. */
  positionOf(rule: CompiledSigmaRule): number {
    return this.positions.get(rule) ?? -1;
  }

  /**
   * `event` was matched against the set and matched exactly `matched`; the rules of `failed` threw on it
   * (`SigmaRuleSet.failures`), so nothing is decided for them.
   */
  record(
    event: object,
    matched: readonly CompiledSigmaRule[],
    failed: readonly { readonly rule: CompiledSigmaRule }[] = NO_FAILED,
  ): void {
    this.generation = (this.generation + 1) >>> 0;
    if (this.generation === 0) {
      this.matchedAt.fill(0);
      this.failedAt.fill(0);
      this.generation = 1;
    }
    this.event = event;
    for (let m = 0; m < matched.length; m++) {
      const position = this.positions.get(matched[m]!);
      if (position !== undefined) this.matchedAt[position] = this.generation;
    }
    for (let f = 0; f < failed.length; f++) {
      const position = this.positions.get(failed[f]!.rule);
      if (position !== undefined) this.failedAt[position] = this.generation;
    }
  }

  /** The set itself threw on the event being matched: nothing is decided for it. */
  forget(): void {
    this.event = null;
  }

  /**
   * Whether rule `position` matches `event`, when `event` is the one last recorded and the rule did not
   * throw on it; undefined otherwise.
   */
  decided(event: object, position: number): boolean | undefined {
    if (event !== this.event || position < 0 || this.failedAt[position] === this.generation) return undefined;
    return this.matchedAt[position] === this.generation;
  }
}

const bySet = new WeakMap<SigmaRuleSet, SigmaSetMatches>();

/** The one `SigmaSetMatches` of a set: its dispatches write it, its rules' predicates read it. */
export function sigmaSetMatches(set: SigmaRuleSet): SigmaSetMatches {
  let matches = bySet.get(set);
  if (matches === undefined) bySet.set(set, (matches = new SigmaSetMatches(set)));
  return matches;
}
