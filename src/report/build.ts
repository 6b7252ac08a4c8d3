// One report's collected lines -> CrashReport: title, alternative titles and the corrupted verdict
// (engine.ts, syzkaller's rules), then the fields (fields.ts). Pure.
import { CORRUPTED_NO_FRAMES, checkCorrupted, extractDescription } from './engine.ts';
import { extractFields } from './fields.ts';
import type { Oops } from './oopses.ts';
import { CONTEXT_CONSOLE, CONTEXT_NONE } from './prefix.ts';
import { finishTitle, titleToType } from './title.ts';
import type { CrashReport } from './types.ts';

/** A line of an open report, as the parser collected it. */
export interface ReportLine {
  text: string;
  /** 1-based line number in the input. */
  lineNo: number;
  /** `? func` (unreliable) frame line: kept for fields, never for titles. */
  questionable: boolean;
  /** After the panic_on_warn / circular-locking cut: kept for fields, not for titles. */
  cut: boolean;
  /** After a later report started (belongs to the next report; only checks look at it). */
  tail: boolean;
}

/** Turns the collected lines of one report into a CrashReport. Pure. */
export function buildReport(
  oops: Oops,
  context: string,
  prefix: ReportLine[],
  lines: ReportLine[],
  vmDisconnected: boolean,
): CrashReport {
  const realContext = context !== CONTEXT_NONE && context !== CONTEXT_CONSOLE;
  const titleLines = lines
    .filter((l) => !l.questionable && !l.cut && (!l.tail || realContext))
    .map((l) => l.text);
  let desc = extractDescription(titleLines, oops);
  // `?` frames count only when no reliable frame exists (a kernel without frame pointers prints
  // every frame so) and the format allows it (see OopsFormat.questionableFrames).
  let unreliableOnly = false;
  if (
    desc.corrupted === CORRUPTED_NO_FRAMES &&
    desc.format?.questionableFrames === true &&
    lines.some((l) => l.questionable && !l.cut)
  ) {
    const retry = extractDescription(
      lines.filter((l) => !l.cut && (!l.tail || realContext)).map(reliableText),
      oops,
    );
    if (retry.corrupted === '') {
      desc = retry;
      unreliableOnly = true;
    }
  }
  let title = desc.title;
  if (title === '') title = titleLines[0] ?? oops.header;
  let corrupted = desc.corrupted;
  if (corrupted === '') {
    const all = lines.filter((l) => (unreliableOnly || !l.questionable) && !l.cut).map(reliableText);
    corrupted = checkCorrupted(title, all, desc.format);
  }
  if (vmDisconnected && corrupted === '') corrupted = 'VM disconnected';
  const finalTitle = finishTitle(title);
  const altTitles = desc.altTitles.map(finishTitle);
  const fields = extractFields(
    prefix,
    lines.filter((l) => !l.tail),
    context,
  );
  let kind = desc.format?.kind ?? oops.kind;
  // `Unable to handle kernel (paging request|NULL pointer dereference)` shares one arm format.
  if (kind === 'paging-request' && finalTitle.includes('NULL pointer dereference')) kind = 'null-deref';
  return {
    kind,
    title: finalTitle,
    altTitles,
    type: titleToType(finalTitle),
    corrupted: corrupted !== '',
    corruptedReason: corrupted === '' ? null : corrupted,
    guiltyFrame: titleFrame(finalTitle),
    ...fields,
  };
}

/** A line's text with its `?` mark dropped (`[<addr>] ? f+0x1/0x2` -> `[<addr>] f+0x1/0x2`). */
function reliableText(l: ReportLine): string {
  return l.questionable ? l.text.replace(' ? ', ' ') : l.text;
}

const TITLE_FRAME = /^(?:<[a-zA-Z0-9_: ]+>)?[a-zA-Z0-9_:]+/;

/** syzkaller's Frame: the identifier after the last ` in ` of the title that is followed by one. */
export function titleFrame(title: string): string | null {
  for (let at = title.lastIndexOf(' in '); at >= 0; at = title.lastIndexOf(' in ', at - 1)) {
    const m = TITLE_FRAME.exec(title.slice(at + 4));
    if (m) return m[0];
    if (at === 0) break;
  }
  return null;
}
