// What a user pastes: a `crash>` session, or Markdown notes where each command is a heading or a
// backticked line followed by its output in a fenced block. Elisions (`...`) are kept in the
// output (the parsers tolerate them) and flagged.
import { isElision, lines } from './common.ts';

export interface TranscriptEntry {
  /** The command as typed, without the prompt (pipes kept: `mod | grep nfs`). */
  command: string;
  output: string;
  /** Output lines were elided (`...`). */
  elided: boolean;
  /** 1-based line of the command in the input. */
  line: number;
}

const PROMPT = 'crash> ';

/** First words that start a crash command (crash's command table, plus struct/union names used as commands are matched by shape). */
const CRASH_COMMANDS = new Set(
  'alias ascii bpf bt btop dev dis eval exit extend files foreach fuser gdb help ipcs irq kmem list log mach mod mount net p pd ps pte ptob ptov px rd repeat runq sbitmap search set sig struct swap sym sys task timer tree union vm vtop waitq whatis wr ptype print dmesg'.split(
    ' ',
  ),
);

/** True when s looks like a crash command line. */
export function looksLikeCommand(s: string): boolean {
  const w = s.trim().split(/\s+/)[0] ?? '';
  return CRASH_COMMANDS.has(w.replace(/\/\w+$/, ''));
}

function promptCommand(line: string): string | null {
  const i = line.indexOf(PROMPT);
  if (i < 0) {
    return line.trimEnd().endsWith('crash>') && line.trim() === 'crash>' ? '' : null;
  }
  // Allow Markdown quote markers or stray text before the prompt (`> crash> bt`, `...text crash> bt`).
  let cmd = line.slice(i + PROMPT.length).trim();
  // Notes often annotate commands: `kmem ADDR # why`.
  const hash = cmd.indexOf(' # ');
  if (hash >= 0) cmd = cmd.slice(0, hash).trim();
  return cmd;
}

function splitPrompted(ls: string[], firstLine: number, out: TranscriptEntry[]): boolean {
  let cur: { command: string; out: string[]; line: number } | null = null;
  let any = false;
  const push = () => {
    if (cur && cur.command !== '') {
      out.push({
        command: cur.command,
        output: cur.out.join('\n').replace(/\n+$/, ''),
        elided: cur.out.some(isElision),
        line: cur.line,
      });
    }
  };
  ls.forEach((l, i) => {
    const c = promptCommand(l);
    if (c !== null) {
      push();
      any = true;
      cur = { command: c, out: [], line: firstLine + i };
    } else if (cur) cur.out.push(l);
  });
  push();
  return any;
}

function commandFromNote(line: string): string | null {
  const h = /^#{1,6}\s+(.*)$/.exec(line.trim());
  const text = h ? h[1]!.trim() : line.trim();
  const spans = [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]!.trim());
  for (const s of spans.reverse()) {
    const c = s.startsWith(PROMPT) ? s.slice(PROMPT.length) : s;
    if (looksLikeCommand(c)) return c;
  }
  if (h) {
    const c = text.startsWith(PROMPT) ? text.slice(PROMPT.length) : text;
    if (looksLikeCommand(c)) return c.trim();
  }
  return null;
}

/** Splits a transcript (crash session or Markdown notes) into commands and their outputs. */
export function splitTranscript(text: string): TranscriptEntry[] {
  const ls = lines(text);
  const out: TranscriptEntry[] = [];
  const hasFence = ls.some((l) => /^\s*(```|~~~)/.test(l));
  if (!hasFence) {
    splitPrompted(ls, 1, out);
    return out;
  }
  let pending: { command: string; line: number } | null = null;
  let i = 0;
  // Prompts outside fences are handled as a plain session segment.
  let plain: string[] = [];
  let plainStart = 1;
  const flushPlain = () => {
    if (plain.length > 0) splitPrompted(plain, plainStart, out);
    plain = [];
  };
  while (i < ls.length) {
    const l = ls[i]!;
    const fence = /^\s*(```|~~~)/.exec(l);
    if (fence) {
      flushPlain();
      const mark = fence[1]!;
      const start = i + 1;
      let j = start;
      while (j < ls.length && !ls[j]!.trim().startsWith(mark)) j++;
      const body = ls.slice(start, j);
      const before = out.length;
      if (!splitPrompted(body, start + 1, out) && pending) {
        out.push({
          command: pending.command,
          output: body.join('\n').replace(/\n+$/, ''),
          elided: body.some(isElision),
          line: pending.line,
        });
      }
      if (out.length > before) pending = null;
      i = j + 1;
      plainStart = i + 1;
      continue;
    }
    if (l.includes(PROMPT)) {
      if (plain.length === 0) plainStart = i + 1;
      plain.push(l);
      i++;
      continue;
    }
    const c = commandFromNote(l);
    if (c) {
      flushPlain();
      pending = { command: c, line: i + 1 };
    } else if (plain.length > 0) plain.push(l);
    i++;
  }
  flushPlain();
  return out;
}

/** The crash command verb and arguments, with pipes and redirections removed (`mod | grep nfs` -> mod). */
export function commandWords(command: string): { verb: string; args: string[]; pipe: string | null } {
  const bar = command.indexOf('|');
  const main = bar >= 0 ? command.slice(0, bar) : command;
  const words = main.trim().split(/\s+/).filter(Boolean);
  return {
    verb: words[0] ?? '',
    args: words.slice(1),
    pipe: bar >= 0 ? command.slice(bar + 1).trim() : null,
  };
}
