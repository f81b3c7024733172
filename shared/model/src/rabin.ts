/**
 * CRC-64-AVRO, the Rabin fingerprint the Avro spec defines for schema fingerprints (Schema Fingerprints,
 * "Rabin fingerprint" reference code), over a schema's Parsing Canonical Form. Used only when a schema is
 * registered with a codec, never per record, so BigInt is fine here.
 */
const EMPTY = 0xc15d213aa4d7a795n;
const MASK = 0xffffffffffffffffn;

const table: readonly bigint[] = (() => {
  const t: bigint[] = [];
  for (let i = 0; i < 256; i++) {
    let fp = BigInt(i);
    for (let j = 0; j < 8; j++) fp = (fp >> 1n) ^ (EMPTY & -(fp & 1n));
    t.push(fp & MASK);
  }
  return t;
})();

/** The 64-bit fingerprint of `bytes` (for schemas: the UTF-8 bytes of the Parsing Canonical Form). */
export function rabinFingerprint64(bytes: Uint8Array): bigint {
  let fp = EMPTY;
  for (const b of bytes) fp = (fp >> 8n) ^ (table[Number((fp ^ BigInt(b)) & 0xffn)] as bigint);
  return fp;
}

/** The fingerprint as the 8 little-endian bytes single-object encoding writes after `C3 01`. */
export function rabinFingerprintBytes(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, rabinFingerprint64(bytes), true);
  return out;
}
