// Kernel versions and the ranges facts hold for. A fact says which releases it was read from and
// which files; the range is where it is known to hold (from <= v < until).

export interface KernelVersion {
  major: number;
  minor: number;
  patch: number | null;
  /** As given (`4.19`, `6.1.0-56-amd64`, `4.19.90-23.el8`). */
  raw: string;
}

/** Parses a kernel release string (uname -r, `sys` RELEASE, `--kernel`). */
export function parseKernelVersion(s: string): KernelVersion | null {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(s);
  if (!m) return null;
  return { major: Number(m[1]), minor: Number(m[2]), patch: m[3] ? Number(m[3]) : null, raw: s };
}

export interface VersionRange {
  /** Inclusive lower bound `major.minor`. */
  from: string;
  /** Exclusive upper bound, or null when not known to have changed. */
  until: string | null;
}

function cmp(v: KernelVersion, s: string): number {
  const [a, b] = s.split('.').map(Number) as [number, number];
  return v.major !== a ? v.major - a : v.minor - b;
}

export function inRange(v: KernelVersion, r: VersionRange): boolean {
  return cmp(v, r.from) >= 0 && (r.until === null || cmp(v, r.until) < 0);
}

export function rangeText(r: VersionRange): string {
  return r.until ? `${r.from} <= v < ${r.until}` : `>= ${r.from}`;
}

/** Where a fact comes from: kernel releases it was read in and the files. */
export interface Provenance {
  /** Releases the fact was verified in (`v4.19.1`, `v4.19.90`, `Debian 6.1.176`). */
  readIn: string[];
  files: string[];
}

/** A bit of a flag word. */
export interface BitDef {
  bit: number;
  name: string;
  /** Short meaning, from the kernel's comment. */
  doc?: string;
}

/** A flag word's bit layout, valid for a version range. */
export interface FlagLayout {
  /** `nfs_page.wb_flags`. */
  field: string;
  /** The C enum or #define family it comes from. */
  enumName: string;
  range: VersionRange;
  bits: BitDef[];
  provenance: Provenance;
}

export function pickByVersion<T extends { range: VersionRange }>(
  items: T[],
  v: KernelVersion | null,
): T | null {
  if (!v) return null;
  return items.find((i) => inRange(v, i.range)) ?? null;
}

/** Decodes a flag word: names of set bits (first alias wins) and set bits with no name. */
export function decodeBits(
  value: bigint,
  bits: BitDef[],
  maxBit = 64,
): { set: string[]; clear: string[]; unknown: number[] } {
  const set: string[] = [];
  const clear: string[] = [];
  const unknown: number[] = [];
  const byBit = new Map<number, string>();
  for (const b of bits) if (!byBit.has(b.bit)) byBit.set(b.bit, b.name);
  for (let i = 0; i < maxBit; i++) {
    const on = ((value >> BigInt(i)) & 1n) === 1n;
    const name = byBit.get(i);
    if (on) {
      if (name) set.push(name);
      else unknown.push(i);
    } else if (name) clear.push(name);
  }
  return { set, clear, unknown };
}

/** `PG_MAPPED|PG_INODE_REF`, or `0`. */
export function joinFlags(names: string[], unknown: number[] = []): string {
  const all = [...names, ...unknown.map((b) => `bit${b}`)];
  return all.length === 0 ? '0' : all.join('|');
}
