/**
 * IP addresses as four 32-bit words (IPv6 order). IPv4 is stored IPv4-mapped (`::ffff:a.b.c.d`), as
 * Elasticsearch's `ip` type stores it, so `1.2.3.4` and `::ffff:1.2.3.4` are the same address and an IPv4
 * CIDR never matches a native IPv6 address. Parsing writes into a caller-owned buffer: no allocation per event.
 */
export type IpWords = Uint32Array;

export function newIpWords(): IpWords {
  return new Uint32Array(4);
}

function parseIpv4(text: string, start: number, end: number): number {
  let value = 0;
  let parts = 0;
  let i = start;
  while (i <= end) {
    let octet = 0;
    let digits = 0;
    // A leading zero ('01') is rejected, as Elasticsearch and node:net do: it reads as octal elsewhere.
    if (text.charCodeAt(i) === 48 && i + 1 < end && text.charCodeAt(i + 1) !== 46) return -1;
    while (i < end) {
      const code = text.charCodeAt(i);
      if (code < 48 || code > 57) break;
      octet = octet * 10 + (code - 48);
      digits++;
      i++;
    }
    if (digits === 0 || digits > 3 || octet > 255) return -1;
    value = value * 256 + octet;
    parts++;
    if (i === end) break;
    if (text.charCodeAt(i) !== 46 /* . */ || parts === 4) return -1;
    i++;
  }
  return parts === 4 ? value : -1;
}

/** Parse `text` into `out`; false (and `out` unspecified) when it is not an IPv4 or IPv6 address. */
export function parseIpInto(text: string, out: IpWords): boolean {
  let end = text.length;
  const zone = text.indexOf('%');
  if (zone >= 0) end = zone;
  if (text.indexOf(':') < 0) {
    const v4 = parseIpv4(text, 0, end);
    if (v4 < 0) return false;
    out[0] = 0;
    out[1] = 0;
    out[2] = 0xffff;
    out[3] = v4;
    return true;
  }
  // IPv6: up to 8 groups of 1..4 hex digits, one '::', optionally an IPv4 tail. Groups go into a
  // module-level scratch array (parsing is synchronous), so a parse allocates nothing.
  const groups = GROUPS;
  let count = 0;
  let gap = -1;
  let i = 0;
  if (text.startsWith('::')) {
    gap = 0;
    i = 2;
  }
  while (i < end) {
    if (count >= 8) return false;
    const colon = text.indexOf(':', i);
    const stop = colon < 0 || colon > end ? end : colon;
    if (stop === end && text.indexOf('.', i) >= 0) {
      if (count > 6) return false;
      const v4 = parseIpv4(text, i, end);
      if (v4 < 0) return false;
      groups[count++] = Math.floor(v4 / 65536);
      groups[count++] = v4 & 0xffff;
      i = end;
      break;
    }
    const length = stop - i;
    if (length < 1 || length > 4) return false;
    let group = 0;
    for (let j = i; j < stop; j++) {
      const digit = hexDigit(text.charCodeAt(j));
      if (digit < 0) return false;
      group = group * 16 + digit;
    }
    groups[count++] = group;
    if (stop === end) {
      i = end;
      break;
    }
    i = stop + 1;
    if (text.charCodeAt(i) === 58 /* : */) {
      if (gap >= 0) return false;
      gap = count;
      i++;
    } else if (i === end) {
      return false;
    }
  }
  if (gap < 0 ? count !== 8 : count > 7) return false;
  const tail = gap < 0 ? 0 : count - gap;
  for (let w = 0; w < 4; w++) {
    out[w] = ((groupAt(groups, 2 * w, gap, tail) << 16) | groupAt(groups, 2 * w + 1, gap, tail)) >>> 0;
  }
  return true;
}

const GROUPS = new Uint16Array(8);

/** Group `k` (0..7) of the full address, given the groups before the '::' (gap) and after it (tail). */
function groupAt(groups: Uint16Array, k: number, gap: number, tail: number): number {
  if (gap < 0 || k < gap) return groups[k] as number;
  if (k >= 8 - tail) return groups[gap + k - (8 - tail)] as number;
  return 0;
}

function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  if (code >= 65 && code <= 70) return code - 55;
  return -1;
}

export function sameIp(a: IpWords, b: IpWords): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
}

/** A parsed CIDR block: the network's words and a mask per word (IPv4 prefixes shifted by 96 bits). */
export interface CidrBlock {
  readonly text: string;
  readonly network: IpWords;
  readonly mask: IpWords;
}

/** `10.0.0.0/8`, `fe80::/10`, or a bare address (a /32 or /128). Returns null when invalid. */
export function parseCidr(text: string): CidrBlock | null {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const network = newIpWords();
  if (!parseIpInto(address, network)) return null;
  const isV4 = address.indexOf(':') < 0;
  let prefix = isV4 ? 32 : 128;
  if (slash >= 0) {
    const bits = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(bits) || Number(bits) > prefix) return null;
    prefix = Number(bits);
  }
  if (isV4) prefix += 96;
  const mask = newIpWords();
  for (let w = 0; w < 4; w++) {
    const bits = Math.max(0, Math.min(32, prefix - 32 * w));
    mask[w] = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    network[w] = ((network[w] as number) & (mask[w] as number)) >>> 0;
  }
  return { text, network, mask };
}

export function inCidr(address: IpWords, block: CidrBlock): boolean {
  for (let w = 0; w < 4; w++) {
    if (((address[w] as number) & (block.mask[w] as number)) >>> 0 !== block.network[w]) return false;
  }
  return true;
}
