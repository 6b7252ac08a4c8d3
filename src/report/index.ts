// Public API of the crash-log parser: console log text -> CrashReport[]. Pure: no I/O.
import { CrashLogParser, type ParserOptions } from './stream.ts';
import type { CrashReport } from './types.ts';

export { LINUX_OOPSES, matchOops } from './oopses.ts';
export { parsePrefix } from './prefix.ts';
export { CrashLogParser, type ParserOptions } from './stream.ts';
export { normalizeTitle, titleToType } from './title.ts';
export type * from './types.ts';

/** Every crash report in a console log, in the order they start. */
export function parseLog(text: string, options?: ParserOptions): CrashReport[] {
  const out: CrashReport[] = [];
  let vmDisconnected = false;
  const p = new CrashLogParser((r) => out.push(r), options);
  p.push(text);
  p.end();
  // The GCE console hangup marker taints every report of the log, also those before it.
  if (text.includes('serialport: VM disconnected.')) vmDisconnected = true;
  if (vmDisconnected) {
    for (const r of out) {
      if (!r.corrupted) {
        r.corrupted = true;
        r.corruptedReason = 'VM disconnected';
      }
    }
  }
  return out;
}
