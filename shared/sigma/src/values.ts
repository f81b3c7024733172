/**
 * Sigma values after their modifiers: what a detection item compares a field with. The loader builds
 * these (`modifiers.ts`); the backend compiles them to matchers (`compile.ts`).
 */
import type { CidrBlock } from '@sequor/engine';
import type { PcreFlags } from './pcre.js';

/** `*` in a Sigma string: any run of characters. */
export const ANY_RUN = Symbol('*');
/** `?` in a Sigma string: exactly one character. */
export const ANY_ONE = Symbol('?');
export type StringPart = string | typeof ANY_RUN | typeof ANY_ONE;

/**
 * A Sigma string: literal runs and wildcards, escapes already resolved (`\*` is a literal star). `bytes`
 * marks a string whose code units are bytes (after `utf16le`/`utf16be`/`wide`), for `base64`.
 */
export interface SigmaString {
  readonly parts: readonly StringPart[];
  readonly bytes: boolean;
}

export type SigmaValue =
  /** One of `alternatives` (more than one after `windash` or `base64offset`), case-insensitive unless `cased`. */
  | { readonly kind: 'string'; readonly alternatives: readonly SigmaString[]; readonly cased: boolean }
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'boolean'; readonly value: boolean }
  /** `null`: the field is absent or null. */
  | { readonly kind: 'null' }
  | {
      readonly kind: 're';
      readonly pattern: string;
      readonly flags: PcreFlags;
      /** Offset of the pattern in the file, for errors found when it is compiled. */
      readonly offset: number;
    }
  | { readonly kind: 'cidr'; readonly text: string; readonly block: CidrBlock }
  | { readonly kind: 'compare'; readonly op: 'gt' | 'gte' | 'lt' | 'lte'; readonly value: number }
  | { readonly kind: 'exists'; readonly value: boolean }
  | {
      readonly kind: 'fieldref';
      readonly field: string;
      readonly position: 'equals' | 'contains' | 'startswith' | 'endswith';
      readonly cased: boolean;
    };

/**
 * Parses a plain Sigma string: `*` and `?` are wildcards, `\*` `\?` `\\` their literal forms; a backslash
 * before anything else is itself literal (so `C:\Windows\` needs no escaping).
 */
export function parseSigmaString(text: string): SigmaString {
  const parts: StringPart[] = [];
  let run = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '\\') {
      const next = text[i + 1];
      if (next === '*' || next === '?' || next === '\\') {
        run += next;
        i += 1;
      } else run += c;
    } else if (c === '*' || c === '?') {
      if (run.length > 0) parts.push(run);
      run = '';
      parts.push(c === '*' ? ANY_RUN : ANY_ONE);
    } else run += c;
  }
  if (run.length > 0) parts.push(run);
  return { parts, bytes: false };
}

export function hasWildcards(s: SigmaString): boolean {
  return s.parts.some((p) => typeof p !== 'string');
}

/** The literal text of a string without wildcards. */
export function plainText(s: SigmaString): string {
  return s.parts.join('');
}

/** The string as Sigma source again (wildcards as `*`/`?`, literal ones escaped), for messages and keys. */
export function printSigmaString(s: SigmaString): string {
  return s.parts
    .map((p) => (p === ANY_RUN ? '*' : p === ANY_ONE ? '?' : p.replace(/[\\*?]/g, (c) => `\\${c}`)))
    .join('');
}
