// `mod` (module list) and `mod -s NAME [FILE]` (load symbols) tables. crash 8.0.2 prints
// MODULE NAME BASE SIZE OBJECT FILE; older versions omit BASE.
import { canonHex, lines } from './common.ts';

export interface ModuleRow {
  module: string;
  name: string;
  base: string | null;
  size: number;
  /** Debuginfo object loaded for the module, or null when `(not loaded)`. */
  object: string | null;
  /** `[CONFIG_KALLSYMS]` and other bracketed notes. */
  notes: string[];
}

/** Parses `mod`, `mod -s`, `mod -S` output (lines that are not module rows are ignored, e.g. `| grep` output is fine). */
export function parseMod(text: string): ModuleRow[] {
  const out: ModuleRow[] = [];
  for (const raw of lines(text)) {
    const cols = raw.trim().split(/\s+/);
    if (cols.length < 3 || !/^[0-9a-f]{8,16}$/.test(cols[0]!)) continue;
    let i = 2;
    let base: string | null = null;
    if (/^[0-9a-f]{8,16}$/.test(cols[2]!) && cols[3] !== undefined && /^\d+$/.test(cols[3])) {
      base = canonHex(cols[2]!);
      i = 3;
    }
    if (!/^\d+$/.test(cols[i] ?? '')) continue;
    const size = Number(cols[i]);
    const rest = cols.slice(i + 1).join(' ');
    const notes = [...rest.matchAll(/\[([^\]]+)\]/g)].map((m) => m[1]!);
    const objText = rest.replace(/\[[^\]]+\]/g, '').trim();
    out.push({
      module: canonHex(cols[0]!),
      name: cols[1]!,
      base,
      size,
      object: objText === '' || objText === '(not loaded)' ? null : objText,
      notes,
    });
  }
  return out;
}
