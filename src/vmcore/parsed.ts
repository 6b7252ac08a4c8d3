// Which parser of ./parse reads which crash command: the table the CLI (`ktriage crash --json`)
// and the analysis use to turn a command's output into data. Commands without a parser (or whose
// output a parser rejects) stay raw text; the caller says so rather than guessing.
import {
  CrashParseError,
  parseBt,
  parseCrashLog,
  parseDis,
  parseKmemAddress,
  parseKmemS,
  parseList,
  parseMod,
  parsePrint,
  parsePs,
  parseRd,
  parseSearch,
  parseStruct,
  parseStructOffsets,
  parseSym,
  parseSys,
  parseTask,
  parseTypeInfo,
} from './parse/index.ts';

export interface ParsedOutput {
  /** Name of the parser used (`parseBt`), or null when the command has none. */
  parser: string | null;
  value: unknown;
  /** Why the parser rejected the output (the raw text is still there). */
  error?: string;
}

interface Rule {
  /** First word of the command. */
  verbs: string[];
  /** Extra condition on the arguments. */
  when?: (args: string[]) => boolean;
  name: string;
  parse: (text: string, verb: string) => unknown;
}

const hasFlag = (args: string[], flag: string) => args.includes(flag);

const RULES: Rule[] = [
  { verbs: ['bt', 'foreach'], name: 'parseBt', parse: (t) => parseBt(t) },
  { verbs: ['dis'], name: 'parseDis', parse: (t) => parseDis(t) },
  {
    verbs: ['struct', 'union'],
    when: (a) => hasFlag(a, '-o') && a.filter((x) => !x.startsWith('-')).length === 1,
    name: 'parseStructOffsets',
    parse: (t) => parseStructOffsets(t),
  },
  {
    verbs: ['struct', 'union'],
    when: (a) => a.filter((x) => !x.startsWith('-')).length === 1,
    name: 'parseTypeInfo',
    parse: (t) => parseTypeInfo(t),
  },
  { verbs: ['struct', 'union'], name: 'parseStruct', parse: (t) => parseStruct(t) },
  { verbs: ['p', 'print', 'px', 'pd'], name: 'parsePrint', parse: (t, v) => parsePrint(t, v) },
  { verbs: ['whatis', 'ptype'], name: 'parseTypeInfo', parse: (t) => parseTypeInfo(t) },
  {
    verbs: ['kmem'],
    when: (a) => a.includes('-s') || a.includes('-S'),
    name: 'parseKmemS',
    parse: (t) => parseKmemS(t),
  },
  {
    verbs: ['kmem'],
    when: (a) => a.some((x) => !x.startsWith('-')) && !a.some((x) => /^-[iVvnzfFpPcCglIhrL]/.test(x)),
    name: 'parseKmemAddress',
    parse: (t) => parseKmemAddress(t),
  },
  { verbs: ['search'], name: 'parseSearch', parse: (t) => parseSearch(t) },
  { verbs: ['rd'], name: 'parseRd', parse: (t) => parseRd(t) },
  {
    verbs: ['mod'],
    when: (a) => a.length === 0 || a.every((x) => x === '-t'),
    name: 'parseMod',
    parse: (t) => parseMod(t),
  },
  { verbs: ['list'], name: 'parseList', parse: (t) => parseList(t) },
  { verbs: ['task'], name: 'parseTask', parse: (t) => parseTask(t) },
  { verbs: ['sys'], when: (a) => a.length === 0, name: 'parseSys', parse: (t) => parseSys(t) },
  {
    verbs: ['log', 'dmesg'],
    when: (a) => a.every((x) => x === '-t' || x === '-m'),
    name: 'parseCrashLog',
    parse: (t) => parseCrashLog(t),
  },
  { verbs: ['ps'], name: 'parsePs', parse: (t) => parsePs(t) },
  { verbs: ['sym'], name: 'parseSym', parse: (t) => parseSym(t) },
];

/** The parser rule for a command line, if any (pipes to shell commands disable parsing). */
export function parserFor(command: string): Rule | null {
  if (command.includes('|') || command.includes('>')) return null;
  const [verb = '', ...args] = command.trim().split(/\s+/);
  for (const r of RULES) if (r.verbs.includes(verb) && (!r.when || r.when(args))) return r;
  return null;
}

/** Parses one command's output with the matching parser; raw when there is none. */
export function parseCommandOutput(command: string, output: string): ParsedOutput {
  const rule = parserFor(command);
  if (!rule) return { parser: null, value: null };
  const verb = command.trim().split(/\s+/)[0] ?? '';
  try {
    return { parser: rule.name, value: rule.parse(output, verb) };
  } catch (e) {
    if (e instanceof CrashParseError || e instanceof Error)
      return { parser: rule.name, value: null, error: e.message };
    throw e;
  }
}
