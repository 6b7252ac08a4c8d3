// Where the playbook's crash commands are answered: a live session (runs the command) or a saved
// transcript (finds an entry that answers it; a missing answer becomes an open question).
import { canonHex, commandWords, isHex, type TranscriptEntry } from '../vmcore/parse/index.ts';

/** A question the playbook asks crash: the command to run, and how to recognise an answer in a transcript. */
export interface Query {
  command: string;
  matches(verb: string, args: string[]): boolean;
  /** Prefer entries for which this returns larger numbers (e.g. `bt -f` over `bt`). */
  rank?(verb: string, args: string[]): number;
}

export interface Answer {
  command: string;
  output: string;
  elided: boolean;
}

/** Something with a `run(cmd)`: the vmcore engineer's CrashSession, or a test double. */
export interface CrashRunner {
  run(command: string): Promise<{ output: string; errors?: string[] } | string>;
}

export interface CommandSource {
  mode: 'live' | 'transcript';
  ask(q: Query): Promise<Answer | null>;
  /** Every answer whose verb is one of these (transcript: all entries; live: what was run). */
  all(verbs: string[]): Answer[];
  log: { command: string; status: 'ran' | 'found' | 'missing' | 'error'; ms?: number }[];
}

const hexEq = (a: string, b: string) => isHex(a) && canonHex(a) === canonHex(b);

export const Q = {
  sys: (): Query => ({ command: 'sys', matches: (v, a) => v === 'sys' && a.length === 0 }),
  log: (): Query => ({
    command: 'log',
    matches: (v, a) => (v === 'log' || v === 'dmesg') && !a.includes('-a'),
  }),
  bt: (flags: string): Query => ({
    command: `bt ${flags}`.trim(),
    matches: (v, a) => v === 'bt' && !a.some((x) => /^\d+$/.test(x) || (isHex(x) && x.length > 6)),
    rank: (_v, a) =>
      a.some((x) => /^-[a-zA-Z]*F/.test(x)) ? 2 : a.some((x) => /^-[a-zA-Z]*f/.test(x)) ? 3 : 1,
  }),
  dis: (func: string): Query => ({
    command: `dis -l ${func}`,
    matches: (v, a) => v === 'dis' && a.some((x) => x === func || x.startsWith(`${func}+`)),
    rank: (_v, a) => (a.includes('-l') ? 2 : 1),
  }),
  struct: (type: string, addr: string): Query => {
    const t = type.replace(/^struct\s+/, '');
    return {
      command: `struct ${t} ${addr} -x`,
      matches: (v, a) => {
        const hasAddr = a.some((x) => hexEq(x, addr));
        if (v === 'struct' || v === 'union') return hasAddr && a[0] === t && !a.includes('-o');
        return v === t && hasAddr;
      },
      rank: (_v, a) => (a.includes('-x') ? 2 : 1),
    };
  },
  structOffsets: (type: string): Query => {
    const t = type.replace(/^struct\s+/, '');
    return {
      command: `struct -o ${t}`,
      matches: (v, a) => (v === 'struct' || v === t) && a.includes('-o') && a.includes(t),
    };
  },
  whatis: (name: string): Query => ({
    command: `whatis ${name}`,
    matches: (v, a) => (v === 'whatis' || v === 'ptype') && a.join(' ') === name,
  }),
  kmem: (addr: string): Query => ({
    command: `kmem ${addr}`,
    matches: (v, a) =>
      v === 'kmem' && a.length >= 1 && hexEq(a[a.length - 1]!, addr) && !a.some((x) => /^-[sSp]/.test(x)),
  }),
  search: (value: string): Query => ({
    command: `search -k ${value}`,
    matches: (v, a) => v === 'search' && a.length >= 1 && hexEq(a[a.length - 1]!, value),
  }),
  rd: (addr: string, count: number): Query => ({
    command: `rd -64 ${addr} ${count}`,
    matches: (v, a) => v === 'rd' && a.some((x) => hexEq(x, addr)),
  }),
  sym: (name: string): Query => ({
    command: `sym ${name}`,
    matches: (v, a) => v === 'sym' && a.includes(name),
  }),
  /** Dump file header: `help -n` prints the VMCOREINFO note (kdump sub-header or ELF notes). */
  helpN: (): Query => ({
    command: 'help -n',
    matches: (v, a) => v === 'help' && (a.includes('-n') || a.includes('-D')),
  }),
  /** Machine-dependent data: `help -m` prints stacksize (THREAD_SIZE), section_size_bits, ... */
  helpM: (): Query => ({
    command: 'help -m',
    matches: (v, a) => v === 'help' && a.includes('-m'),
  }),
  taskStack: (): Query => ({
    command: 'task -R stack',
    matches: (v, a) => v === 'task' && a.includes('stack'),
  }),
};

/** Answers from a transcript: the best-ranked entry that matches, never running anything. */
export function transcriptSource(entries: TranscriptEntry[]): CommandSource {
  const log: CommandSource['log'] = [];
  return {
    mode: 'transcript',
    log,
    async ask(q) {
      let best: { e: TranscriptEntry; r: number } | null = null;
      for (const e of entries) {
        const { verb, args } = commandWords(e.command);
        if (!q.matches(verb, args)) continue;
        const r = q.rank ? q.rank(verb, args) : 1;
        if (!best || r > best.r) best = { e, r };
      }
      if (!best) {
        if (!log.some((l) => l.command === q.command)) log.push({ command: q.command, status: 'missing' });
        return null;
      }
      if (!log.some((l) => l.command === best!.e.command))
        log.push({ command: best.e.command, status: 'found' });
      return { command: best.e.command, output: best.e.output, elided: best.e.elided };
    },
    all(verbs) {
      return entries
        .filter((e) => verbs.includes(commandWords(e.command).verb))
        .map((e) => ({ command: e.command, output: e.output, elided: e.elided }));
    },
  };
}

/** Answers by running the query's command in a live crash session (each command once). */
export function liveSource(runner: CrashRunner): CommandSource {
  const log: CommandSource['log'] = [];
  const cache = new Map<string, Answer | null>();
  return {
    mode: 'live',
    log,
    async ask(q) {
      if (cache.has(q.command)) return cache.get(q.command)!;
      const t0 = performance.now();
      let ans: Answer | null = null;
      try {
        const r = await runner.run(q.command);
        const output = typeof r === 'string' ? r : r.output;
        const errors = typeof r === 'string' ? [] : (r.errors ?? []);
        if (errors.length > 0 && output.trim() === errors.join('\n').trim()) {
          log.push({ command: q.command, status: 'error', ms: Math.round(performance.now() - t0) });
        } else {
          ans = { command: q.command, output, elided: false };
          log.push({ command: q.command, status: 'ran', ms: Math.round(performance.now() - t0) });
        }
      } catch {
        log.push({ command: q.command, status: 'error', ms: Math.round(performance.now() - t0) });
      }
      cache.set(q.command, ans);
      return ans;
    },
    all(verbs) {
      const out: Answer[] = [];
      for (const a of cache.values()) if (a && verbs.includes(commandWords(a.command).verb)) out.push(a);
      return out;
    },
  };
}
