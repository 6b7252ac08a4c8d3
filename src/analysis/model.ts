// The triage report: what each playbook step found, how (the commands and rules it used), and how
// sure it is. Serialised as JSON (schema: src/analysis/report.schema.json, docs in
// docs/analysis-report.md), rendered as Markdown and HTML.

export type Confidence = 'certain' | 'high' | 'medium' | 'low';

/** One step of a derivation: what was concluded, from which evidence (a crash command or a rule). */
export interface DerivationStep {
  text: string;
  /** `bt`, `dis -l nfs_unlock_request`, `knowledge:nfs.ts`, `rule:callee-saved`. */
  source: string;
}

export interface RecoveredValue {
  /** Canonical hex (no 0x), or null when only the expression is known. */
  value: string | null;
  /** Symbolic form when the value is not known (`*(RBX+0x40)`). */
  expression?: string;
  confidence: Confidence;
  derivation: DerivationStep[];
}

export interface FrameArgument extends RecoveredValue {
  index: number;
  register: string;
  name: string | null;
  type: string | null;
  /** Where the name/type came from: `whatis`, `source index`, `knowledge:nfs.ts`. */
  typeSource: string | null;
}

export interface MemoryLoad {
  /** Instruction address and text. */
  address: string;
  instruction: string;
  base: string;
  offset: number;
  /** `nfs_page.wb_flags`, when the base register's type and the layout are known. */
  field: string | null;
  /** How the base register's type is known. */
  baseType: string | null;
  layoutSource: string | null;
}

export interface FrameReport {
  /** 0 = the crashing function (exception frame); then callers outward. */
  index: number;
  /** crash's `#N`, null for the crashing function (it appears as `[exception RIP: ...]`). */
  level: number | null;
  function: string;
  module: string | null;
  /** Fault RIP for the crashing function, return address for callers. */
  pc: string;
  /** Stack pointer: the exception RSP, or where the return address into this function is stored. */
  sp: string;
  /** Callee-saved registers (x86_64: RBX RBP R12-R15; arm64: x19-x28), upper-case names. */
  registers: Record<string, RecoveredValue>;
  arguments: FrameArgument[];
  loads: MemoryLoad[];
  notes: string[];
}

export interface DecodedFlags {
  field: string;
  value: string;
  set: string[];
  clear: string[];
  unknownBits: number[];
  /** `debuginfo: enum pageflags`, `source: include/linux/nfs_page.h`, `knowledge: nfs.ts (v4.19.1, ...)`. */
  source: string;
  /** Extra decoded fields (page flags: node, zone, last_cpupid). */
  extra?: Record<string, string | number | null>;
}

export interface ObjectReport {
  address: string;
  type: string;
  /** How the type is known (an argument's prototype, a struct command in the transcript, a pointer field). */
  typeSource: string;
  /** The command whose output describes it. */
  command: string | null;
  fields: { path: string; value: string }[];
  flags: DecodedFlags[];
  refcounts: { path: string; value: number }[];
  lists: {
    path: string;
    state: 'empty' | 'single' | 'linked' | 'poisoned';
    next: string;
    prev: string;
    note: string;
  }[];
  selfPointers: string[];
  /** Pointer fields linking to other objects of the report (`wb_page -> struct page ...`, `page.private -> req`). */
  links: { path: string; target: string; note: string }[];
  notes: string[];
}

export interface MemoryFact {
  address: string;
  type: string | null;
  command: string;
  /** How the cache relates to the type: its own cache, a SLUB-merged alias, kmalloc, unknown. */
  relation: 'own-cache' | 'merged' | 'kmalloc' | 'unknown' | null;
  cache: string | null;
  objSize: number | null;
  allocated: boolean | null;
  objectAddress: string | null;
  offsetInObject: number | null;
  slab: string | null;
  explanation: string;
  confirm: string[];
}

export type HitClass =
  | 'slab-object'
  | 'task-stack'
  | 'stack-alias'
  | 'mapping-alias'
  | 'page-cache-index'
  | 'elsewhere';

export interface SearchHitReport {
  address: string;
  class: HitClass;
  detail: string;
  confidence: Confidence;
  /** Commands that would confirm or refine the classification. */
  confirm: string[];
}

export interface SearchReport {
  value: string;
  /** What the value is (`struct page of req.wb_page`). */
  meaning: string | null;
  command: string;
  hits: SearchHitReport[];
}

export interface InvariantReport {
  id: string;
  object: string;
  statement: string;
  status: 'holds' | 'violated' | 'unknown';
  observed: string;
  expected: string;
  why: string;
  ifViolated: string;
  /** Whether a frame of the backtrace is one of the functions the rule is stated for. */
  atCrashSite: boolean;
  sources: string[];
  /** With a source index: the code that changes the flag bit the rule is about. */
  writers?: { func: string | null; op: string; file: string; line: number }[];
}

export interface OpenQuestion {
  question: string;
  commands: string[];
}

export interface PanicSummary {
  message: string | null;
  title: string | null;
  kind: string | null;
  bugLocation: string | null;
  task: { pid: number; command: string; task: string } | null;
  cpu: number | null;
  exception: { function: string; offset: number | null; module: string | null; rip: string | null } | null;
  /** Where these came from (`sys`, `log`, `bt`). */
  sources: string[];
}

export interface AnalysisReport {
  schema: 'ktriage.analysis/1';
  mode: 'live' | 'transcript';
  generatedAt: string;
  input: { vmcore?: string; vmlinux?: string; transcript?: string };
  kernel: { release: string | null; source: string | null; arch: 'x86_64' | 'arm64' | null };
  panic: PanicSummary;
  frames: FrameReport[];
  objects: ObjectReport[];
  memory: MemoryFact[];
  searches: SearchReport[];
  invariants: InvariantReport[];
  /** Pointers of known type the objects step did not print (its budget ran out), with the command that would. */
  objectsSkipped?: { address: string; type: string; label: string; reason: string; command: string }[];
  /** Knowledge-pack facts about the code paths in the backtrace (how requests reach the crash site). */
  knowledge: { text: string; versions: string; sources: string[] }[];
  summary: { known: string[]; violated: string[]; open: OpenQuestion[] };
  /** Every crash command the playbook used (live: ran; transcript: found) or wanted. */
  commands: { command: string; status: 'ran' | 'found' | 'missing' | 'error'; ms?: number }[];
  warnings: string[];
}
