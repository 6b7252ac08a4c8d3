// Crash signatures: normalised frame lists and a position-aware stack similarity for bucketing.
// Pure. The similarity follows ReBucket's Position Dependent Model (Dang et al., ICSE 2012): a
// frame matched near the top of both stacks weighs more, and a match whose positions differ
// between the two stacks weighs less; the best alignment (an LCS-style dynamic programme) wins.
import type { CrashReport, Frame } from '../report/types.ts';

export { normalizeTitle, titleToType } from '../report/title.ts';

/** Compiler-made clones and split parts (`.isra.0`, `.constprop.3`, `.cold`, `.part.1`, `.llvm.123`). */
export function normalizeFrameName(name: string): string {
  const dot = name.indexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}

// Frames that say how the report was printed or how the CPU entered the kernel, not where the bug
// is: the same bug reached from two machines differs in these, and different bugs share them.
const GENERIC_FRAME = new RegExp(
  [
    // printing and the BUG/WARN/panic machinery
    '^(?:__)?dump_stack(?:_lvl)?$',
    '^show_stack$',
    '^show_regs$',
    '^show_trace_log_lvl$',
    '^dump_backtrace$',
    '^(?:__)?warn(?:_slowpath.*|_alloc|_bogus.*)?$',
    '^__warn_printk$',
    '^report_bug$',
    '^fixup_bug$',
    '^handle_bug$',
    '^(?:v)?panic$',
    '^nmi_panic$',
    '^die(?:_body)?$',
    '^oops_end$',
    '^__die(?:_body)?$',
    '^bug_handler$',
    '^(?:do_)?error_trap$',
    '^do_trap$',
    '^do_invalid_op$',
    '^invalid_op$',
    '^math_error$',
    '^print_tainted$',
    '^(?:__)?(?:kasan|kmsan|kfence)_report$',
    '^__kasan_report$',
    '^print_address_description.*$',
    '^kasan_.*$',
    '^__asan_.*$',
    '^kmsan_.*$',
    '^__msan_.*$',
    '^ubsan_.*$',
    '^__ubsan_.*$',
    '^check_memory_region.*$',
    // entry code: syscalls, exceptions, interrupts, kernel threads
    '^entry_SYSCALL.*$',
    '^entry_SYSENTER.*$',
    '^entry_INT80.*$',
    '^do_syscall_(?:64|32|x64|x32)?$',
    '^do_(?:fast|int80)_syscall_32$',
    '^x64_sys_call$',
    '^syscall_exit_to_user_mode.*$',
    '^exit_to_user_mode.*$',
    '^ret_from_fork(?:_asm)?$',
    '^ret_from_intr$',
    '^kthread$',
    '^asm_(?:exc|sysvec|common)_.*$',
    '^exc_.*$',
    '^error_entry$',
    '^page_fault$',
    '^async_page_fault$',
    '^(?:do_|__do_)?(?:user|kern)_addr_fault$',
    '^do_page_fault$',
    '^no_context$',
    '^bad_area.*$',
    '^(?:el0|el1|el1h_64|el0t_64)_.*$',
    '^invoke_syscall$',
    '^do_el0_svc$',
    '^el0_svc_common.*$',
    '^do_mem_abort$',
    '^do_(?:kernel|translation)_fault$',
    '^__do_kernel_fault$',
    '^die_kernel_fault$',
    '^ret_fast_syscall$',
    '^system_call.*$',
  ].join('|'),
);

/** Generic frames (printing, BUG/WARN/panic, sanitizer reporting, entry code) carry no bug identity. */
export function isGenericFrame(name: string): boolean {
  return GENERIC_FRAME.test(name);
}

/** Name of the faulting function: the register dump's frame, else the symbolic RIP/pc value. */
function faultingFunction(report: CrashReport): string | null {
  if (report.ipFrame) return report.ipFrame.func;
  const r = report.registers;
  const v = r.RIP ?? r.EIP ?? r.pc ?? r.NIP ?? r.epc;
  if (!v) return null;
  const m = /(?:^|:)([A-Za-z_][\w.]*)\+0x[0-9a-f]+/.exec(v);
  return m ? m[1]! : null;
}

/**
 * Normalised frame names of a report, top first: the faulting function (when the register dump
 * names it), then the reliable frames of the main trace, without offsets, compiler suffixes,
 * generic or unnamed (raw address) frames, consecutive duplicates collapsed.
 */
export function frameSignature(report: CrashReport): string[] {
  const out: string[] = [];
  const top = faultingFunction(report);
  if (top) pushFrame(out, top);
  const frames: Frame[] = report.frames;
  for (const f of frames) {
    // An unnamed frame's address differs from machine to machine (KASLR, module load order).
    if (!f.reliable || f.func.startsWith('0x')) continue;
    pushFrame(out, f.func);
  }
  return out;
}

/** Appends a frame's normalised name unless it is generic or repeats the previous one. */
function pushFrame(out: string[], name: string): void {
  const n = normalizeFrameName(name);
  if (n === '' || isGenericFrame(n)) return;
  if (out[out.length - 1] === n) return;
  out.push(n);
}

/** ReBucket weights: c = decay with the distance from the top, o = decay with the position offset. */
export interface SimilarityParams {
  c: number;
  o: number;
  /** Only the top frames count (bounds the O(n*m) alignment). */
  maxFrames: number;
}

export const DEFAULT_SIMILARITY: SimilarityParams = { c: 0.15, o: 0.4, maxFrames: 64 };

/** Reports whose stacks are at least this similar belong in the same bucket. */
export const SAME_BUCKET_THRESHOLD = 0.5;

/**
 * Position-dependent similarity of two normalised stacks in [0, 1] (1 = same top frames in the same
 * order). The best monotone alignment of equal frames maximises sum(e^(-c*min(i,j)) * e^(-o*|i-j|)),
 * normalised by the best possible score for the shorter stack.
 */
export function stackSimilarity(
  a: string[],
  b: string[],
  params: SimilarityParams = DEFAULT_SIMILARITY,
): number {
  const x = a.slice(0, params.maxFrames);
  const y = b.slice(0, params.maxFrames);
  if (x.length === 0 && y.length === 0) return 1;
  if (x.length === 0 || y.length === 0) return 0;
  const n = x.length;
  const m = y.length;
  let prev = new Float64Array(m + 1);
  let cur = new Float64Array(m + 1);
  for (let i = 1; i <= n; i++) {
    cur[0] = 0;
    for (let j = 1; j <= m; j++) {
      let best = Math.max(prev[j]!, cur[j - 1]!);
      if (x[i - 1] === y[j - 1]) {
        const w = Math.exp(-params.c * Math.min(i - 1, j - 1)) * Math.exp(-params.o * Math.abs(i - j));
        const d = prev[j - 1]! + w;
        if (d > best) best = d;
      }
      cur[j] = best;
    }
    [prev, cur] = [cur, prev];
  }
  const score = prev[m]!;
  let norm = 0;
  for (let i = 0; i < Math.min(n, m); i++) norm += Math.exp(-params.c * i);
  const s = score / norm;
  return Math.min(1, Math.max(0, s));
}
