// The triage playbook. One sequence of steps, two drivers: live (a crash session: the playbook
// decides which command to run next from what it learned) and transcript (the same steps answered
// from a saved session; a missing answer becomes an open question naming the command to run).
import {
  atFunction,
  type CrashSite,
  explainCache,
  FLAG_ENUMS,
  flagLayoutFor,
  inRange,
  invariantsFor,
  type KernelVersion,
  knownLayout,
  NFS_WRITE_PATH_FACTS,
  type ObjectFacts,
  ownCacheOf,
  type PageFlagsConfig,
  pageFlagsFieldLayout,
  parseKernelVersion,
  prototypeFor,
  rangeText,
  stackBase,
  X86_64_THREAD_SIZE,
} from '../knowledge/index.ts';
import { parseLog } from '../report/index.ts';
import type { CrashReport } from '../report/types.ts';
import {
  type BtTask,
  canonHex,
  type Disassembly,
  fieldBig,
  getField,
  type KmemAddress,
  kernelException,
  leaves,
  parseBt,
  parseDis,
  parseKmemAddress,
  parseSearch,
  parseStruct,
  parseStructOffsets,
  parseSys,
  parseTypeInfo,
  type StructLayout,
  type StructValue,
} from '../vmcore/parse/index.ts';
import { configCommands, readPageFlagsConfig } from './config.ts';
import type {
  AnalysisReport,
  FrameReport,
  InvariantReport,
  MemoryFact,
  ObjectReport,
  OpenQuestion,
  PanicSummary,
  SearchReport,
} from './model.ts';
import { buildObject, enumFromSource, type FlagBitsLookup, objectField } from './objects.ts';
import { callerReaches, type LogicalFrame, type Prototype, recoverFrames } from './regs.ts';
import { classifyHits, type KnownRegion } from './search.ts';
import { type CommandSource, Q } from './source.ts';

/** What the playbook uses of a kernel source index (src/source's SourceIndex satisfies it). */
export interface SourceIndexLike {
  enums(
    nameOrPrefix: string,
  ): { enum: string | null; file: string; constants: { name: string; value: string | null }[] }[];
  writers(
    structName: string,
    fieldName: string,
    opts?: { bit?: string },
  ): { writers: { func: string | null; op: string; file: string; line: number }[] };
}

export interface PlaybookOptions {
  /** A kernel source index (`--src INDEX`): enum values and who changes a flag bit. */
  srcIndex?: SourceIndexLike;
  /** Kernel release when the input does not show it (`--kernel`). */
  kernel?: string;
  /** A kernel source tree for enum definitions (`--src`). */
  src?: string;
  input?: AnalysisReport['input'];
  /** How many frames to disassemble in live mode. */
  maxFrames?: number;
  /** Whether to run `search` in live mode (it scans all of memory). */
  search?: boolean;
  /**
   * Live: how far the objects step follows pointers of known type (every frame's typed arguments,
   * then their struct pointer members, then pointers of types the knowledge pack decodes). What is
   * left when a limit is reached is listed in the report (objectsSkipped) with its command.
   */
  budget?: ObjectBudget;
}

export interface ObjectBudget {
  /** Objects printed (default 40). */
  objects?: number;
  /** crash commands run by the objects step (default 200). */
  commands?: number;
  /** Wall time of the objects step in ms (default 60000). */
  ms?: number;
}

const bare = (t: string) => t.replace(/^(struct|union)\s+/, '').trim();
const hx = (v: bigint) => v.toString(16);
/** Types whose pointers the playbook follows to print the object (they have flags or invariants). */
const FOLLOW = new Set(['page', 'nfs_page', 'nfs_open_context', 'inode', 'task_struct']);

interface ObjCandidate {
  address: string;
  type: string;
  typeSource: string;
  label: string;
  depth: number;
  /** Pointer of a type the knowledge pack decodes (flags, invariants): examined first at its depth. */
  known?: boolean;
}

/** A pointer value worth printing: a kernel address (upper half), not an ERR_PTR or a small constant. */
function kernelPointer(v: bigint): boolean {
  return v >= 0xffff800000000000n && v < 0xfffffffffffff000n;
}

export async function runPlaybook(src: CommandSource, opts: PlaybookOptions = {}): Promise<AnalysisReport> {
  const warnings: string[] = [];
  const open: OpenQuestion[] = [];
  const ask = (question: string, ...commands: string[]) => {
    if (!open.some((o) => o.question === question)) open.push({ question, commands });
  };

  // 1. Panic summary: sys, log (the report parser), bt header.
  const panic: PanicSummary = {
    message: null,
    title: null,
    kind: null,
    bugLocation: null,
    task: null,
    cpu: null,
    exception: null,
    sources: [],
  };
  let release: string | null = null;
  let releaseSource: string | null = null;
  const sysA = await src.ask(Q.sys());
  if (sysA) {
    try {
      const s = parseSys(sysA.output);
      release = s.release;
      releaseSource = release ? 'sys' : null;
      panic.message = s.panic;
      panic.sources.push('sys');
    } catch (e) {
      warnings.push(String((e as Error).message));
    }
  }
  let report: CrashReport | null = null;
  const logA = await src.ask(Q.log());
  if (logA) {
    const reports = parseLog(logA.output);
    report = reports.find((r) => r.kind !== 'panic' && r.kind !== 'reboot') ?? reports[0] ?? null;
    if (report) {
      panic.title = report.title;
      panic.kind = report.kind;
      panic.bugLocation = report.bugLocation
        ? `${report.bugLocation.file}${report.bugLocation.line !== null ? `:${report.bugLocation.line}` : ''}`
        : null;
      if (!release && report.kernelRelease) {
        release = report.kernelRelease;
        releaseSource = 'log';
      }
      panic.sources.push('log');
    }
  }
  if (opts.kernel) {
    if (release && parseKernelVersion(release) && parseKernelVersion(opts.kernel)) {
      const a = parseKernelVersion(release)!;
      const b = parseKernelVersion(opts.kernel)!;
      if (a.major !== b.major || a.minor !== b.minor)
        warnings.push(
          `--kernel ${opts.kernel} disagrees with the dump's release ${release}; using the dump's`,
        );
    } else {
      release = opts.kernel;
      releaseSource = '--kernel';
    }
  }
  const version: KernelVersion | null = release ? parseKernelVersion(release) : null;
  if (!version) {
    ask('Which kernel version is this? Flag layouts (enum pageflags, nfs_page bits) depend on it.', 'sys');
    warnings.push(
      'kernel version unknown: flag words are decoded only from enums found in the dump; pass --kernel RELEASE',
    );
  }

  // 2. Backtrace of the crashing task.
  const btA = await src.ask(Q.bt('-f'));
  const btFF = src.mode === 'live' ? await src.ask(Q.bt('-FF')) : null;
  let task: BtTask | null = null;
  if (btA) {
    try {
      const tasks = parseBt(btA.output);
      task = tasks.find((t) => kernelException(t) !== null) ?? tasks[0] ?? null;
    } catch (e) {
      warnings.push((e as Error).message);
    }
  } else ask('The backtrace of the crashing task (exception frame and registers)', 'bt -f');
  const exc = task ? kernelException(task) : null;
  const arch: 'x86_64' | 'arm64' | null = exc
    ? exc.exception.registers.RIP
      ? 'x86_64'
      : exc.exception.registers.PC
        ? 'arm64'
        : null
    : null;
  if (task) {
    panic.task = { pid: task.pid, command: task.command, task: task.task };
    panic.cpu = task.cpu;
    panic.sources.push('bt');
  }
  const frames: LogicalFrame[] = [];
  if (task && exc) {
    const rip = exc.exception.registers.RIP ?? exc.exception.registers.PC ?? null;
    const rsp = exc.exception.registers.RSP ?? exc.exception.registers.SP ?? null;
    panic.exception = { function: exc.exception.symbol!, offset: exc.exception.offset, module: null, rip };
    if (rip && rsp) {
      frames.push({
        index: 0,
        level: null,
        func: exc.exception.symbol!,
        module: null,
        pc: BigInt(`0x${rip}`),
        sp: BigInt(`0x${rsp}`),
      });
    }
    const start = task.frames.indexOf(exc.frame);
    for (const f of task.frames.slice(start + 1)) {
      if (f.level < 0 || f.exception) break;
      // crash may also list the faulting function as a frame of its own at the exception RIP (a
      // return address left just below the exception RSP, e.g. from a call to printk before BUG):
      // it is the same activation as the exception frame, not a caller.
      // On arm64 crash prints every frame's PC minus 4 (the branch before a return address), the
      // faulting function's too (arm64_print_stackframe_entry in crash's arm64.c).
      const fpc = BigInt(`0x${f.pc}`);
      if (
        frames.length === 1 &&
        f.func === frames[0]!.func &&
        (fpc === frames[0]!.pc || (arch === 'arm64' && fpc === frames[0]!.pc - 4n))
      )
        continue;
      frames.push({
        index: frames.length,
        level: f.level,
        func: f.func,
        module: f.module,
        pc: BigInt(`0x${f.pc}`),
        sp: BigInt(`0x${f.sp}`),
      });
    }
    if (frames[1]?.module && frames[0]) {
      // The faulting function's module: crash prints it only on frame lines; take it from the caller when the RIP is in the same module area.
      const callerMod = frames[1].module;
      if (frames[0].pc >> 24n === frames[1].pc >> 24n) {
        frames[0].module = callerMod;
        panic.exception.module = callerMod;
      }
    }
  } else if (task) {
    warnings.push(
      'no kernel exception frame in the backtrace: registers per frame start from the first frame',
    );
  }
  if (!panic.exception && report && report.kind !== 'panic') {
    // No exception frame from bt: the console report's RIP line still names the faulting function
    // (`RIP: 0010:fixture_crash+0x62/0x70 [mod]`). The first call-trace frame is its caller, not it.
    const rip = report.registers.RIP ?? report.registers.pc ?? '';
    const m = /(?:^|:)([A-Za-z_.][\w.]*)\+(0x[0-9a-f]+)\/0x[0-9a-f]+(?:\s+\[(\S+)\])?/.exec(rip);
    if (m) panic.exception = { function: m[1]!, offset: Number(m[2]), module: m[3] ?? null, rip: null };
  }

  // Stack words from bt -f (and -FF annotations).
  const stackWords = new Map<string, bigint>();
  const slabNotes = new Map<string, string>();
  for (const a of [btA, btFF]) {
    if (!a) continue;
    try {
      for (const t of parseBt(a.output)) {
        if (task && t.task !== task.task) continue;
        for (const f of t.frames) {
          for (const w of f.words) {
            if (w.value !== null && !w.slabCache) stackWords.set(w.address, BigInt(`0x${w.value}`));
            if (w.slabCache) slabNotes.set(w.address, w.slabCache);
          }
        }
      }
    } catch {
      /* reported above */
    }
  }
  if (frames.length > 1 && stackWords.size === 0) {
    ask('The stack words of each frame (saved registers pushed by the prologues)', 'bt -f');
  }

  // 3. Disassembly, prototypes, layouts for the frames.
  // Live: every frame (bounded); a transcript answers what it has, so ask about the innermost ones.
  const maxFrames = opts.maxFrames ?? (src.mode === 'live' ? 32 : 6);
  const objectFrames = src.mode === 'live' ? maxFrames + 1 : OBJECT_FRAMES;
  const code = new Map<string, { dis: Disassembly; command: string } | null>();
  for (const f of frames.slice(0, maxFrames + 1)) {
    if (code.has(f.func)) continue;
    const a = await src.ask(Q.dis(f.func));
    code.set(f.func, a ? { dis: parseDis(a.output), command: a.command } : null);
  }
  const protos = new Map<string, Prototype | null>();
  for (const f of frames.slice(0, maxFrames + 1)) {
    if (protos.has(f.func)) continue;
    let p: Prototype | null = null;
    const a = await src.ask(Q.whatis(f.func));
    if (a) {
      try {
        const ti = parseTypeInfo(a.output);
        if (ti.kind === 'function')
          p = {
            params: ti.fn.params.map((x) => ({ name: x.name, type: x.type })),
            source: `debuginfo (${a.command})`,
          };
      } catch {
        /* not a function */
      }
    }
    if (!p) {
      const k = prototypeFor(f.func, version);
      if (k)
        p = {
          params: k.params,
          source: `knowledge pack (${k.provenance.files.join(', ')}; ${k.provenance.readIn.join(', ')})`,
        };
    }
    // Keep debuginfo types but take parameter names from the knowledge pack when debuginfo omits them.
    if (p?.params.some((x) => x.name === null)) {
      const k = prototypeFor(f.func, version);
      if (k && k.params.length === p.params.length)
        p = { ...p, params: p.params.map((x, i) => ({ ...x, name: x.name ?? k.params[i]!.name })) };
    }
    protos.set(f.func, p);
  }
  const layouts = new Map<
    string,
    { members: { offset: number; name: string; type: string }[]; source: string; size: number | null } | null
  >();
  const layoutOf = async (type: string) => {
    const t = bare(type);
    if (layouts.has(t)) return layouts.get(t)!;
    let l: {
      members: { offset: number; name: string; type: string }[];
      source: string;
      size: number | null;
    } | null = null;
    const a = await src.ask(Q.structOffsets(t));
    if (a) {
      try {
        const so: StructLayout = parseStructOffsets(a.output);
        l = {
          members: so.members
            .filter((m) => m.offset !== null)
            .map((m) => ({ offset: m.offset!, name: m.name, type: m.type })),
          source: `debuginfo (${a.command})`,
          size: so.size,
        };
      } catch {
        /* no layout */
      }
    }
    if (!l) {
      const k = knownLayout(t, version);
      if (k)
        l = {
          members: k.members,
          source: `knowledge pack (${k.provenance.files.join(', ')}, ${k.provenance.readIn.join(', ')}; confirm with struct -o ${t})`,
          size: k.size,
        };
    }
    layouts.set(t, l);
    return l;
  };
  // Layouts name the loads and the search hits of the innermost frames' objects.
  for (const f of frames.slice(0, objectFrames)) {
    for (const x of protos.get(f.func)?.params ?? []) {
      const m = /^struct\s+(\w+)\s*\*$/.exec(x.type.trim());
      if (m) await layoutOf(m[1]!);
    }
  }

  // 4. Registers and arguments per frame.
  const faultRegs = new Map<string, bigint>();
  for (const [k, v] of Object.entries(exc?.exception.registers ?? {}))
    faultRegs.set(k.toLowerCase(), BigInt(`0x${v}`));
  let frameReports: FrameReport[] = [];
  if (frames.length > 0 && arch) {
    const r = recoverFrames({
      arch,
      frames,
      faultRegs,
      faultSource: btA?.command ?? 'bt',
      code: (f) => code.get(f) ?? null,
      stackWords,
      stackSource: stackWords.size > 0 ? (btA?.command ?? 'bt -f') : null,
      prototype: (f) => protos.get(f) ?? null,
      layout: (t) => layouts.get(bare(t)) ?? null,
    });
    frameReports = r.frames;
    for (const q of r.open) ask(q.question, ...q.commands);
  }
  // Frames whose call does not lead to the frame inside them: crash listed a stale return address
  // (or a tail call hides a function). Their arguments are not trusted for printing objects.
  let chainBreak: number | null = null;
  if (arch) {
    for (let k = 1; k < frameReports.length && k < frames.length; k++) {
      const c = callerReaches(code.get(frames[k]!.func) ?? null, frames[k]!.pc, arch, frames[k - 1]!.func);
      if (c.reaches !== false) continue;
      frameReports[k]!.notes.push(
        `caller link not verified: ${c.insn ? `the instruction before the return address is \`${c.insn.mnemonic} ${c.insn.operandText}\`` : 'no call before the return address'}, not a call of ${frames[k - 1]!.func} (a stale return address on the stack, or a tail call)`,
      );
      chainBreak ??= k;
    }
  }

  // 5. Objects: typed arguments, then pointers of interesting types, then what the transcript printed.
  const candidates: ObjCandidate[] = [];
  const addCand = (c: ObjCandidate) => {
    if (!candidates.some((x) => x.address === c.address && bare(x.type) === bare(c.type))) candidates.push(c);
  };
  // The innermost frames always (as crash shows them); further out only up to the first frame
  // whose call does not lead inward.
  const argFrames = Math.min(objectFrames, Math.max(OBJECT_FRAMES, chainBreak ?? Number.POSITIVE_INFINITY));
  for (const fr of frameReports.slice(0, argFrames)) {
    for (const a of fr.arguments) {
      const m = a.type ? /^struct\s+(\w+)\s*\*$/.exec(a.type.trim()) : null;
      if (
        m &&
        a.value &&
        (src.mode === 'transcript' ? a.value !== '0' : kernelPointer(BigInt(`0x${a.value}`)))
      ) {
        addCand({
          address: a.value,
          type: `struct ${m[1]}`,
          typeSource: `argument ${a.index}${a.name ? ` (${a.name})` : ''} of ${fr.function}: ${a.typeSource}`,
          label: `${a.name ?? `arg${a.index}`} of ${fr.function}`,
          depth: 0,
        });
      }
    }
  }
  // The panic task: the scheduler's invariants speak about it (live; a transcript's own
  // `struct task_struct ADDR` is picked up below).
  if (src.mode === 'live' && task && /^[0-9a-f]+$/.test(task.task)) {
    addCand({
      address: canonHex(task.task),
      type: 'struct task_struct',
      typeSource: `the panic task (TASK in the \`${btA?.command ?? 'bt'}\` header)`,
      label: `panic task ${task.command} (pid ${task.pid})`,
      depth: 2,
    });
  }
  // THREAD_SIZE as crash knows it (`help -m` stacksize), else the architecture's default.
  let threadSize = X86_64_THREAD_SIZE;
  const helpM =
    src.mode === 'live'
      ? await src.ask(Q.helpM())
      : (src.all(['help']).find((a) => /\s-m\b/.test(a.command)) ?? null);
  const ss = helpM ? /^\s*stacksize:\s*(\d+)\s*$/m.exec(helpM.output) : null;
  if (ss) threadSize = BigInt(ss[1]!);
  for (const a of src.all(['struct'])) {
    const w = a.command.trim().split(/\s+/);
    const type = w[1];
    const addr = w.slice(2).find((x) => /^(0x)?[0-9a-f]{8,16}$/i.test(x));
    if (type && addr && !w.includes('-o') && !type.includes('.')) {
      addCand({
        address: BigInt(addr.startsWith('0x') ? addr : `0x${addr}`).toString(16),
        type: `struct ${type}`,
        typeSource: `printed by \`${a.command}\``,
        label: `${type} ${addr}`,
        depth: 1,
      });
    }
  }
  const objects: ObjectReport[] = [];
  const values = new Map<string, StructValue>();
  const kmems = new Map<string, KmemAddress | null>();
  const memory: MemoryFact[] = [];
  const flagLookup = await makeFlagLookup(src, opts.src, version, opts.srcIndex);
  // The page->flags upper fields depend on the configuration: read it once, when a page is printed.
  let pageConfig: PageFlagsConfig | undefined;
  // Live: follow pointers within the budget, nearest first (depth), pointers the knowledge pack
  // decodes before others at the same depth; the rest is reported as skipped with its command.
  // Transcript: what the transcript printed, plus one level of decodable pointers (answers missing
  // there become open questions, so it does not chase every pointer).
  const live = src.mode === 'live';
  const budget = {
    objects: opts.budget?.objects ?? 40,
    commands: opts.budget?.commands ?? 200,
    ms: opts.budget?.ms ?? 60000,
  };
  const objT0 = performance.now();
  const objCmd0 = src.log.length;
  const skipped: NonNullable<AnalysisReport['objectsSkipped']> = [];
  const taken = new Set<number>();
  const nextCandidate = (): number => {
    let best = -1;
    for (let i = 0; i < candidates.length; i++) {
      if (taken.has(i)) continue;
      if (!live) return i;
      const c = candidates[i]!;
      const b = best >= 0 ? candidates[best]! : null;
      if (!b || c.depth < b.depth || (c.depth === b.depth && c.known && !b.known)) best = i;
    }
    return best;
  };
  for (let i = nextCandidate(); i >= 0; i = nextCandidate()) {
    taken.add(i);
    const c = candidates[i]!;
    const t = bare(c.type);
    const over = !live
      ? objects.length >= 16
        ? 'transcript object limit (16)'
        : null
      : objects.length >= budget.objects
        ? `object budget (${budget.objects} objects)`
        : src.log.length - objCmd0 >= budget.commands
          ? `command budget (${budget.commands} crash commands)`
          : performance.now() - objT0 >= budget.ms
            ? `time budget (${budget.ms} ms)`
            : null;
    if (over) {
      skipped.push({
        address: c.address,
        type: c.type,
        label: c.label,
        reason: over,
        command: `struct ${t} ${c.address} -x`,
      });
      continue;
    }
    const a = await src.ask(Q.struct(t, c.address));
    if (!a) {
      ask(`What does the ${t} at ${c.address} (${c.label}) hold?`, `struct ${t} ${c.address} -x`);
      continue;
    }
    let blocks: ReturnType<typeof parseStruct>;
    try {
      blocks = parseStruct(a.output);
    } catch (e) {
      warnings.push((e as Error).message);
      continue;
    }
    const b = blocks.find((x) => x.type === null || bare(x.type) === t) ?? blocks[0];
    if (b?.value.kind !== 'struct') continue;
    values.set(`${t}@${c.address}`, b.value);
    const l = await layoutOf(t);
    // Memory facts for slab objects (not for struct page, which lives in the memmap).
    let size: number | null = l?.size ?? null;
    if (t !== 'page') {
      const ka = await src.ask(Q.kmem(c.address));
      let k: KmemAddress | null = null;
      if (ka) {
        try {
          k = parseKmemAddress(ka.output);
        } catch (e) {
          warnings.push((e as Error).message);
        }
      } else
        ask(`Is the ${t} at ${c.address} allocated or free, and in which slab cache?`, `kmem ${c.address}`);
      kmems.set(c.address, k);
      if (k?.cache) {
        size = k.cache.objSize;
        const ex = explainCache(c.type, k.cache.name, k.cache.objSize);
        const objAddr = k.object?.address ?? null;
        const off = objAddr ? Number(BigInt(`0x${c.address}`) - BigInt(`0x${objAddr}`)) : null;
        memory.push({
          address: c.address,
          type: c.type,
          command: ka!.command,
          cache: k.cache.name,
          objSize: k.cache.objSize,
          allocated: k.object ? k.object.allocated : null,
          objectAddress: objAddr,
          offsetInObject: off,
          slab: k.slab?.slab ?? null,
          relation: ex.kind,
          explanation: `${k.object ? (k.object.allocated ? 'allocated' : 'FREE (the pointer is stale: use after free?)') : 'not a slab object'}${off !== null && off !== 0 ? `, 0x${off.toString(16)} bytes into object ${objAddr}` : off === 0 ? ', the pointer is the start of the object' : ''}; ${ex.text}`,
          confirm: ex.confirm,
        });
        if (
          (ex.kind === 'merged' || ex.kind === 'unknown') &&
          src.mode === 'transcript' &&
          ex.confirm.length > 0
        )
          ask(`Confirm which caches SLUB merged for ${t}`, ...ex.confirm);
      } else if (k) {
        memory.push({
          address: c.address,
          type: c.type,
          command: ka!.command,
          relation: null,
          cache: null,
          objSize: null,
          allocated: null,
          objectAddress: null,
          offsetInObject: null,
          slab: null,
          explanation: k.other.join('; ') || 'not in a slab cache',
          confirm: [],
        });
      }
    }
    if (t === 'page' && !pageConfig) pageConfig = await readPageFlagsConfig(src, arch);
    objects.push(
      buildObject({
        address: c.address,
        type: c.type,
        typeSource: c.typeSource,
        command: a.command,
        value: b.value,
        size,
        version,
        flagLookup,
        pageConfig,
        known: candidates.map((x) => ({ address: x.address, type: x.type, label: x.label })),
      }),
    );
    // Follow pointers: live, every struct pointer member of the frames' arguments and, further
    // out, of types the knowledge pack decodes; a transcript, decodable types one level out.
    if (l) {
      for (const m of l.members) {
        const pm = /^struct\s+(\w+)\s*\*$/.exec(m.type.trim());
        if (!pm) continue;
        const known = FOLLOW.has(pm[1]!);
        const follow = live ? c.depth === 0 || (known && c.depth < 3) : known && c.depth < 2;
        if (!follow) continue;
        const v = fieldBig(b.value, m.name);
        if (v === null || !kernelPointer(v) || hx(v) === c.address) continue;
        addCand({
          address: hx(v),
          type: `struct ${pm[1]}`,
          typeSource: `${t}.${m.name} (${m.type}, ${l.source})`,
          label: `${t}.${m.name}`,
          depth: c.depth + 1,
          known,
        });
      }
    }
  }
  if (pageConfig) {
    const assumed = pageFlagsFieldLayout(version, pageConfig).assumed;
    const cmds = configCommands(pageConfig, version);
    if (assumed.length > 0)
      ask(
        `The page->flags node/zone/last_cpupid fields were decoded with assumed configuration (${assumed.join(', ')}); which does this kernel have?`,
        ...cmds,
      );
  }
  // Links between objects, now that all are known. Union members at the same place print the same
  // value several times (page.private, page.dma_addr_upper, ...): one link per target, the others named.
  const knownObjs = objects.map((o) => ({
    address: o.address,
    type: o.type,
    label: candidates.find((c) => c.address === o.address)?.label ?? o.address,
  }));
  for (const o of objects) {
    const v = values.get(`${bare(o.type)}@${o.address}`);
    if (!v) continue;
    for (const l of leaves(v)) {
      if (l.value.hex === null) continue;
      for (const k of knownObjs) {
        if (k.address !== l.value.hex || k.address === o.address) continue;
        const target = `${k.type} ${k.address}`;
        if (!o.links.some((x) => x.path === l.path && x.target === target)) {
          o.links.push({ path: l.path, target, note: `${bare(o.type)}.${l.path} points to ${k.label}` });
        }
      }
    }
    // One link per target: later fields with the same value are union aliases or copies, named in the note.
    const aliases = new Map<string, string[]>();
    const kept: ObjectReport['links'] = [];
    for (const l of o.links) {
      const a = aliases.get(l.target);
      if (a) a.push(l.path);
      else {
        aliases.set(l.target, []);
        kept.push(l);
      }
    }
    for (const l of kept) {
      const a = aliases.get(l.target)!;
      if (a.length > 0) l.note = `${l.note} (same value also in ${a.join(', ')})`;
    }
    o.links = kept;
  }

  // 6. Searches: for each object found by the playbook (live) or each search in the transcript.
  const searches: SearchReport[] = [];
  const searchValues: { value: string; meaning: string | null }[] = [];
  // Search for the objects recovered from the innermost frames and the objects they point to
  // (live: each search scans all of memory, a few seconds each).
  const innerFuncs = [...new Set(frames.slice(0, 3).map((f) => f.func))];
  const fromInner = (c: ObjCandidate) => innerFuncs.some((f) => c.label.endsWith(` of ${f}`));
  const searchable = objects.filter((o) => {
    const c = candidates.find((x) => x.address === o.address && bare(x.type) === bare(o.type));
    if (!c) return false;
    if (c.depth === 0) return fromInner(c);
    return candidates.some((p) => p.depth === 0 && fromInner(p) && c.label.startsWith(`${bare(p.type)}.`));
  });
  for (const o of searchable.slice(0, 4)) {
    searchValues.push({
      value: o.address,
      meaning: `${o.type} (${candidates.find((c) => c.address === o.address)?.label ?? ''})`,
    });
  }
  for (const a of src.all(['search'])) {
    const last = a.command.trim().split(/\s+/).pop() ?? '';
    if (/^(0x)?[0-9a-f]+$/i.test(last)) {
      const v = BigInt(last.startsWith('0x') ? last : `0x${last}`).toString(16);
      if (!searchValues.some((s) => s.value === v)) searchValues.push({ value: v, meaning: null });
    }
  }
  const regions: KnownRegion[] = [];
  for (const o of objects) {
    const k = kmems.get(o.address);
    const l = layouts.get(bare(o.type));
    const size = k?.cache?.objSize ?? l?.size ?? null;
    const v = values.get(`${bare(o.type)}@${o.address}`);
    if (!size || bare(o.type) === 'page') continue;
    regions.push({
      address: BigInt(`0x${k?.object?.address ?? o.address}`),
      size,
      label: `${candidates.find((c) => c.address === o.address)?.label ?? o.address} (${o.address})`,
      type: o.type,
      fieldAt: l
        ? (off) => {
            const m = [...l.members].filter((x) => x.offset <= off).sort((a, b) => b.offset - a.offset)[0];
            return m
              ? `${bare(o.type)}.${m.name}${m.offset === off ? '' : `+${off - m.offset}`} (offsets: ${l.source})`
              : null;
          }
        : undefined,
      fieldsWithValue: v
        ? (val) =>
            leaves(v)
              .filter((x) => x.value.hex === hx(val))
              .map((x) => `${bare(o.type)}.${x.path}`)
        : undefined,
    });
  }
  const stackFrames = frames.map((f) => ({ func: f.func, level: f.level, sp: f.sp }));
  const base = frames[0] ? stackBase(frames[0].sp) : null;
  for (const sv of searchValues) {
    const wantLive = src.mode === 'live' && opts.search !== false;
    const transcriptHas = src.all(['search']).some((a) => {
      const last = a.command.trim().split(/\s+/).pop() ?? '';
      return (
        /^(0x)?[0-9a-f]+$/i.test(last) &&
        BigInt(last.startsWith('0x') ? last : `0x${last}`).toString(16) === sv.value
      );
    });
    if (!wantLive && !transcriptHas) {
      if (objects.some((o) => o.address === sv.value))
        ask(`Which other memory points to ${sv.meaning ?? sv.value}?`, `search -k ${sv.value}`);
      continue;
    }
    const a = await src.ask(Q.search(sv.value));
    if (!a) continue;
    const parsed = parseSearch(a.output);
    // Thousands of hits (a common value) say little each: classify the first ones and say so.
    const hits = parsed.hits.slice(0, 2000);
    if (parsed.hits.length > hits.length) {
      warnings.push(`search ${sv.value}: ${parsed.hits.length} hits, classified the first ${hits.length}`);
    }
    const pageObj = objects.find((o) => bare(o.type) === 'page' && o.address === sv.value);
    const pageVal = pageObj ? values.get(`page@${pageObj.address}`) : null;
    const isPageCache = pageVal
      ? (objectField(pageVal, 'mapping') ?? 0n) !== 0n ||
        objects.some((o) => o.links.some((l) => l.target.endsWith(sv.value) && /wb_page/.test(l.path)))
      : false;
    const liveKmem = new Map<string, KmemAddress | null>();
    if (src.mode === 'live') {
      for (const h of hits.slice(0, 16)) {
        const ha = await src.ask(Q.kmem(h.address));
        let k: KmemAddress | null = null;
        try {
          k = ha ? parseKmemAddress(ha.output) : null;
        } catch {
          k = null;
        }
        liveKmem.set(h.address, k);
      }
    } else {
      for (const h of hits) {
        const ha = src
          .all(['kmem'])
          .find((x) => x.command.trim().split(/\s+/).pop()?.replace(/^0x/, '') === h.address);
        if (ha) {
          try {
            liveKmem.set(h.address, parseKmemAddress(ha.output));
          } catch {
            /* ignore */
          }
        }
      }
    }
    let meaning = sv.meaning;
    if (!meaning) {
      const link = objects.flatMap((o) =>
        o.links.filter((l) => l.target.endsWith(` ${sv.value}`)).map((l) => `${bare(o.type)}.${l.path}`),
      );
      const obj = objects.find((o) => o.address === sv.value);
      meaning = obj ? `${obj.type}${link.length ? ` (${link.join(', ')})` : ''}` : null;
    }
    searches.push({
      value: sv.value,
      meaning,
      command: a.command,
      hits: classifyHits({
        value: BigInt(`0x${sv.value}`),
        hits: hits.map((h) => BigInt(`0x${h.address}`)),
        regions,
        frames: stackFrames,
        framesElided: task?.elided ?? false,
        stackBase: base,
        valueIsPageCachePage: isPageCache,
        version,
        kmem: (addr) => liveKmem.get(hx(addr)) ?? null,
      }),
    });
  }
  for (const s of searches) {
    const byClass = new Map<string, Set<string>>();
    for (const h of s.hits) {
      if (h.confidence !== 'low' && h.confidence !== 'medium') continue;
      const set = byClass.get(h.class) ?? new Set<string>();
      for (const c of h.confirm) set.add(c);
      byClass.set(h.class, set);
    }
    for (const [cls, cmds] of byClass) {
      if (cmds.size > 0) ask(`Confirm the ${cls} hits of search ${s.value}`, ...[...cmds].slice(0, 6));
    }
  }

  // 7. Invariants.
  const invariants: InvariantReport[] = [];
  const site: Omit<CrashSite, 'argumentOf'> = {
    panicTask: task ? task.task : null,
    panicCpu: task?.cpu ?? null,
    stackPointers: [
      ...((exc?.exception.registers.RSP ?? exc?.exception.registers.SP)
        ? [BigInt(`0x${exc.exception.registers.RSP ?? exc.exception.registers.SP}`)]
        : []),
      ...(task?.frames ?? []).filter((f) => f.level >= 0 && f.sp).map((f) => BigInt(`0x${f.sp}`)),
    ],
    threadSize,
    functions: (task?.frames ?? []).map((f) => f.func.replace(/\.(isra|constprop|part|cold)(\.\d+)?$/g, '')),
  };
  const frameFuncs = new Set(frames.map((f) => f.func.replace(/\.(isra|constprop|part|cold)(\.\d+)?$/g, '')));
  const factsOf = (o: ObjectReport, depth = 0): ObjectFacts => {
    const v = values.get(`${bare(o.type)}@${o.address}`)!;
    const fl = o.flags.find((f) => (FLAG_FIELDS_OF[bare(o.type)] ?? []).includes(f.field));
    const related: Record<string, ObjectFacts | undefined> = {};
    for (const l of o.links) {
      const target = objects.find((x) => `${x.type} ${x.address}` === l.target);
      if (target && target !== o && depth < 1) related[l.path] = factsOf(target, depth + 1);
    }
    return {
      type: bare(o.type),
      address: o.address,
      flags: fl ? new Set(fl.set) : null,
      field: (p) => objectField(v, p),
      related,
      site: {
        ...site,
        argumentOf: frameReports
          .filter((fr) => fr.arguments.some((a) => a.value === o.address))
          .map((fr) => fr.function.replace(/\.(isra|constprop|part|cold)(\.\d+)?$/g, '')),
      },
    };
  };
  for (const o of objects) {
    for (const inv of invariantsFor(o.type, version)) {
      const facts = factsOf(o);
      if (inv.applies && !inv.applies(facts)) continue;
      // A rule about the argument of some functions says nothing about other objects of the type.
      if (inv.atArgument && !facts.site!.argumentOf.some((f) => inv.at.some((p) => atFunction(p, f))))
        continue;
      const r = inv.check(facts);
      const atSite = inv.at.length === 0 || inv.at.some((p) => [...frameFuncs].some((f) => atFunction(p, f)));
      let writers: InvariantReport['writers'];
      if (opts.srcIndex && inv.flag && r.status === 'violated') {
        try {
          const w = opts.srcIndex.writers(bare(o.type), inv.flag.field, { bit: inv.flag.bit });
          const want = inv.flag.change === 'clear' ? /clear|&=|andnot/ : /set|\|=/;
          writers = w.writers
            .filter((x) => want.test(x.op))
            .map((x) => ({ func: x.func, op: x.op, file: x.file, line: x.line }));
        } catch (e) {
          warnings.push(`source index: ${(e as Error).message}`);
        }
      }
      invariants.push({
        ...(writers ? { writers } : {}),
        id: inv.id,
        object: `${o.type} ${o.address}`,
        statement: inv.statement,
        status: r.status,
        observed: r.observed,
        expected: r.expected,
        why: inv.why,
        ifViolated: inv.ifViolated,
        atCrashSite: atSite,
        sources: inv.provenance.files.map((f) => `${f} (${inv.provenance.readIn.join(', ')})`),
      });
    }
  }

  // 8. Summary.
  const known: string[] = [];
  if (panic.exception)
    known.push(
      `Crash in ${panic.exception.function}${panic.exception.offset !== null ? `+${panic.exception.offset}` : ''}${panic.exception.module ? ` [${panic.exception.module}]` : ''}${panic.task ? `, task ${panic.task.command} (pid ${panic.task.pid})` : ''}${panic.cpu !== null ? ` on CPU ${panic.cpu}` : ''}`,
    );
  if (panic.message) known.push(`Panic: ${panic.message}`);
  if (panic.title) known.push(`Console report: ${panic.title}`);
  for (const fr of frameReports) {
    for (const a of fr.arguments) {
      if (a.value && a.type && /\*$/.test(a.type.trim()) && a.derivation.length > 0) {
        known.push(
          `${fr.function}(): ${a.name ?? `arg${a.index}`} (${a.type}) = ${a.value} [${a.confidence}], via ${a.derivation
            .map((d) => d.source)
            .filter((s, i, xs) => xs.indexOf(s) === i)
            .join(', ')}`,
        );
      }
    }
  }
  for (const o of objects) {
    for (const f of o.flags)
      known.push(
        `${bare(o.type)} ${o.address}: ${f.field} = 0x${f.value} = ${f.set.join('|') || '0'}${f.extra?.zone ? ` (zone ${f.extra.zone}, node ${f.extra.node})` : ''}`,
      );
    for (const r of o.refcounts) known.push(`${bare(o.type)} ${o.address}: ${r.path} = ${r.value}`);
    for (const l of o.links) known.push(l.note);
  }
  for (const m of memory) {
    const state = m.allocated === null ? 'not a slab object' : m.allocated ? 'allocated' : 'FREE';
    const rel =
      m.relation === 'merged'
        ? ` (not its own cache ${ownCacheOf(m.type ?? '')?.cache ?? ''}: SLUB merged same-size caches)`
        : '';
    known.push(
      `${m.type ?? ''} ${m.address}: ${state}${m.cache ? ` in slab cache ${m.cache} (${m.objSize}-byte objects)${rel}` : ''}`,
    );
  }
  for (const s of searches) {
    const counts = new Map<string, number>();
    for (const h of s.hits) counts.set(h.class, (counts.get(h.class) ?? 0) + 1);
    known.push(
      `search ${s.value}: ${s.hits.length} references (${[...counts].map(([k, v]) => `${v} ${k}`).join(', ')})`,
    );
  }
  const violated = invariants
    .filter((i) => i.status === 'violated')
    .map(
      (i) =>
        `${i.object}: ${i.statement} — observed ${i.observed}, expected ${i.expected}${i.atCrashSite ? '' : ' (rule stated for other code points)'}`,
    );
  for (const i of invariants) {
    if (!i.writers) continue;
    const inv = invariantsFor(i.object.split(' ').slice(0, -1).join(' '), version).find((x) => x.id === i.id);
    const funcs = [...new Set(i.writers.map((w) => `${w.func ?? '?'} (${w.file}:${w.line})`))];
    if (inv?.flag)
      known.push(
        `${inv.flag.bit} of ${bare(i.object.split(' ').slice(0, -1).join(' '))}.${inv.flag.field} is ${inv.flag.change === 'clear' ? 'cleared' : 'set'} ${funcs.length === 1 ? 'only ' : ''}in: ${funcs.join(', ') || 'no code found by the source index'}`,
      );
  }
  for (const i of invariants.filter((x) => x.status === 'violated')) {
    if (!i.ifViolated) continue;
    const inv = invariantsFor(i.object.split(' ').slice(0, -1).join(' '), version).find((x) => x.id === i.id);
    const type = bare(i.object.split(' ').slice(0, -1).join(' '));
    ask(
      `${i.id} is violated. ${i.ifViolated}`,
      ...(inv?.flag && !i.writers
        ? [`ktriage src writers ${type}.${inv.flag.field} --bit ${inv.flag.bit}`]
        : []),
    );
  }

  // Knowledge facts about the functions on the backtrace.
  const allFuncs = new Set(frames.map((f) => f.func.replace(/\.(isra|constprop|part|cold)(\.\d+)?$/g, '')));
  const knowledge = NFS_WRITE_PATH_FACTS.filter(
    (k) =>
      (version === null || inRange(version, k.range)) &&
      [...allFuncs].some((f) => new RegExp(`\\b${f}\\(`).test(k.text)),
  ).map((k) => ({
    text: k.text,
    versions: rangeText(k.range),
    sources: k.provenance.files.map((f) => `${f} (${k.provenance.readIn.join(', ')})`),
  }));

  if (skipped.length > 0) {
    const reasons = [...new Set(skipped.map((x) => x.reason))].join(', ');
    warnings.push(`${skipped.length} pointer(s) of known type not examined: ${reasons}`);
    ask(
      `${skipped.length} pointer(s) of known type were not examined (${reasons}): ${skipped
        .slice(0, 4)
        .map((x) => `${x.label} = ${x.address}`)
        .join(', ')}${skipped.length > 4 ? ', ...' : ''}`,
      ...skipped.slice(0, 6).map((x) => x.command),
    );
  }

  return {
    schema: 'ktriage.analysis/1',
    mode: src.mode,
    generatedAt: new Date().toISOString(),
    input: opts.input ?? {},
    kernel: { release, source: releaseSource, arch },
    panic,
    frames: frameReports,
    objects,
    memory,
    searches,
    invariants,
    knowledge,
    objectsSkipped: skipped,
    summary: { known, violated, open },
    commands: src.log,
    warnings,
  };
}

/** Objects (struct -x, kmem, layouts) are printed for the arguments of this many innermost frames. */
const OBJECT_FRAMES = 4;

const FLAG_FIELDS_OF: Record<string, string[]> = {
  nfs_page: ['wb_flags'],
  page: ['flags'],
  nfs_open_context: ['flags'],
  inode: ['i_state'],
};

/** Flag definitions in priority order: the dump's debuginfo enum (live: ptype), the source tree, then (in the caller) the knowledge pack. */
async function makeFlagLookup(
  src: CommandSource,
  tree: string | undefined,
  version: KernelVersion | null,
  index: SourceIndexLike | undefined,
): Promise<FlagBitsLookup> {
  const cache = new Map<string, { bits: { bit: number; name: string }[]; source: string } | null>();
  const debuginfo = new Map<string, { bits: { bit: number; name: string }[]; source: string } | null>();
  for (const [key, enumName] of Object.entries(FLAG_ENUMS)) {
    const a = await src.ask(Q.whatis(enumName));
    if (!a) continue;
    try {
      const ti = parseTypeInfo(a.output);
      if (ti.kind === 'enum') {
        debuginfo.set(key, {
          bits: ti.enum.values
            .filter((x) => !x.name.startsWith('__NR'))
            .map((x) => ({ bit: x.value, name: x.name })),
          source: `debuginfo: ${enumName} (${a.command})`,
        });
      }
    } catch {
      /* not available */
    }
  }
  return (type, field) => {
    const key = `${type}.${field}`;
    if (cache.has(key)) return cache.get(key)!;
    let r = debuginfo.get(key) ?? null;
    if (!r && index) {
      const kp = flagLayoutFor(type, field, version) ?? flagLayoutFor(type, field, parseKernelVersion('6.1'));
      const first = kp?.bits[0]?.name;
      if (first) {
        try {
          const g = index.enums(first).find((x) => x.constants.some((c) => c.name === first));
          const bits = g?.constants
            .filter((c) => c.value !== null && /^-?\d+$/.test(c.value))
            .map((c) => ({ bit: Number(c.value), name: c.name }));
          if (g && bits && bits.length > 0)
            r = {
              bits: bits.filter((b) => !b.name.startsWith('__NR')),
              source: `source index: ${g.enum ?? 'enum'} in ${g.file}`,
            };
        } catch {
          /* not in the index */
        }
      }
    }
    if (!r && tree) {
      const kp = flagLayoutFor(type, field, version) ?? flagLayoutFor(type, field, parseKernelVersion('6.1'));
      const first = kp?.bits[0]?.name;
      const file = kp?.provenance.files[0];
      if (first && file) {
        const bits = enumFromSource(tree, file, first);
        if (bits)
          r = {
            bits,
            source: `kernel source: ${file} in ${tree} (preprocessor conditionals assumed enabled)`,
          };
      }
    }
    cache.set(key, r);
    return r;
  };
}

export { getField, ownCacheOf };
