/**
 * What the filter dispatch last learnt from a `SigmaRuleSet`: the event it matched and which of the set's
 * rules that event matched. The engine still calls each dispatched Sigma filter's own predicate (it may
 * guard it with exceptions, and a dispatch may over-approximate); for the event just matched, the rule's
 * predicate answers from here instead of running its detection a second time through a view of its own
 * (a second read and lower-casing of every field it tests, ~1 kB of garbage per matching event).
 * Exact: `SigmaRuleSet.match` returns the rules whose `matches` holds for the event, no more, no
 * fewer (the sigma package's `sigmahq.test.ts` checks it over SigmaHQ's rules and regression events),
 * and an event object is not changed while the processor handles it. Any other event (a reordered one,
 * a rule run without a dispatch) is matched as before.
 */
import type { CompiledSigmaRule, SigmaRuleSet } from '@sequor/sigma';

export class SigmaSetMatches {
  private event: object | null = null;
  private generation = 0;
  /** Per rule (its position in the set's `rules`), the generation whose event it matched. */
  private readonly matchedAt: Uint32Array;
  private readonly positions: ReadonlyMap<CompiledSigmaRule, number>;

  constructor(readonly set: SigmaRuleSet) {
    this.matchedAt = new Uint32Array(set.rules.length);
    this.positions = new Map(set.rules.map((rule, i) => [rule, i]));
  }

  /** The position of `rule` in the set's `rules` (the key `decided` takes); -1 when it is not one. */
  positionOf(rule: CompiledSigmaRule): number {
    return this.positions.get(rule) ?? -1;
  }

  /** `event` was matched against the set and matched exactly `matched`. */
  record(event: object, matched: readonly CompiledSigmaRule[]): void {
    this.generation = (this.generation + 1) >>> 0;
    if (this.generation === 0) {
      this.matchedAt.fill(0);
      this.generation = 1;
    }
    this.event = event;
    for (let m = 0; m < matched.length; m++) {
      const position = this.positions.get(matched[m]!);
      if (position !== undefined) this.matchedAt[position] = this.generation;
    }
  }

  /** Whether rule `position` matches `event`, when `event` is the one last recorded; undefined otherwise. */
  decided(event: object, position: number): boolean | undefined {
    if (event !== this.event || position < 0) return undefined;
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
