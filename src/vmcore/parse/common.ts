// Shared helpers for the parsers of `crash` command output. Addresses are kept as canonical hex
// strings (lower case, no 0x, no leading zeros) so that they survive JSON; arithmetic uses bigint.

/** Error raised when a crash output does not have the shape a parser expects; names the command. */
export class CrashParseError extends Error {
  constructor(
    readonly command: string,
    message: string,
  ) {
    super(`cannot parse \`${command}\` output: ${message}`);
  }
}

const HEX_RE = /^(?:0x)?[0-9a-f]+$/i;

/** True when s is a hex number, with or without 0x. */
export function isHex(s: string): boolean {
  return HEX_RE.test(s);
}

/** Canonical address form: `0xFFFF9bf9...` -> `ffff9bf9...`, `0000001d` -> `1d`. */
export function canonHex(s: string): string {
  const v = BigInt(s.startsWith('0x') || s.startsWith('0X') ? s : `0x${s}`);
  return v.toString(16);
}

export function toBig(s: string): bigint {
  return BigInt(s.startsWith('0x') || s.startsWith('0X') ? s : `0x${s}`);
}

export function fmtHex(v: bigint, width = 0): string {
  const s = (v & 0xffffffffffffffffn).toString(16);
  return width > 0 ? s.padStart(width, '0') : s;
}

/** Parses a C-style integer as crash prints it (0x.., decimal, negative decimal). */
export function parseCInt(s: string): bigint | null {
  const t = s.trim();
  if (/^-?\d+$/.test(t)) return BigInt(t);
  if (/^0x[0-9a-f]+$/i.test(t)) return BigInt(t);
  return null;
}

/** Splits text into lines without the trailing CR. */
export function lines(text: string): string[] {
  return text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/** Lines that are a transcript elision (`...`, `…`, `[...]`). */
export function isElision(line: string): boolean {
  const t = line.trim();
  return t === '...' || t === '…' || t === '[...]' || t === '. . .';
}

/** Splits `name+off` / `name+0x1f/0x40` into parts. */
export function splitSymOff(s: string): { symbol: string; offset: number } {
  const m = /^([^+\s]+)(?:\+(0x[0-9a-f]+|\d+)(?:\/(?:0x[0-9a-f]+|\d+))?)?$/i.exec(s);
  if (!m) return { symbol: s, offset: 0 };
  return { symbol: m[1]!, offset: m[2] ? Number(m[2]) : 0 };
}
