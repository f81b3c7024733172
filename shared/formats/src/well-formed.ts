/**
 * JSON's `\uXXXX` escapes can write a lone UTF-16 surrogate (`"\ud800"`): valid JSON, but not Unicode.
 * JavaScript keeps it in the string; UTF-8, and so the Avro event the normalizer writes, cannot carry it
 * (it comes back as three U+FFFD), so the detector in Kafka and `sequor detect` in process would see
 * different text. Windows strings may hold unpaired surrogates and shippers that escape UTF-16 pass them
 * on, so refusing the record would let whoever writes a command line hide an event. Instead every lone
 * surrogate becomes U+FFFD, as UTF-8 decoders and Go's encoder (Winlogbeat) do, before any mapping.
 */

/** A `\uD800`..`\uDFFF` escape in JSON text: the only way a lone surrogate gets past a fatal UTF-8 decode. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F][0-9a-fA-F]{2}/;
/** In Unicode mode a paired surrogate is one code point, so this matches lone surrogates only. */
const LONE_SURROGATE = /\p{Surrogate}/u;
const LONE_SURROGATES = /\p{Surrogate}/gu;

const wellFormed = (s: string): string => (LONE_SURROGATE.test(s) ? s.replace(LONE_SURROGATES, '\ufffd') : s);

/**
 * `JSON.parse(text)` with every lone surrogate in its strings and keys replaced by U+FFFD. Costs one
 * substring search when the text has no surrogate escape (nearly always); the repair walk is iterative,
 * so any nesting depth JSON.parse accepts is fine.
 */
export function parseWellFormedJson(text: string): unknown {
  const value: unknown = JSON.parse(text);
  if (!text.includes('\\u') || !SURROGATE_ESCAPE.test(text)) return value;
  if (typeof value === 'string') return wellFormed(value);
  const stack: object[] = [];
  if (typeof value === 'object' && value !== null) stack.push(value);
  while (stack.length > 0) {
    const node = stack.pop() as Record<string, unknown> | unknown[];
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const v: unknown = node[i];
        if (typeof v === 'string') node[i] = wellFormed(v);
        else if (typeof v === 'object' && v !== null) stack.push(v);
      }
      continue;
    }
    for (const key of Object.keys(node)) {
      const v = node[key];
      const fixed = typeof v === 'string' ? wellFormed(v) : v;
      const fixedKey = wellFormed(key);
      if (fixedKey !== key) {
        delete node[key];
        node[fixedKey] = fixed;
      } else if (fixed !== v) node[key] = fixed;
      if (typeof fixed === 'object' && fixed !== null) stack.push(fixed);
    }
  }
  return value;
}
