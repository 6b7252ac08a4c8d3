// Turns a parsed crash report into a fix query: the stack's functions (top first, generic oops
// and entry frames left out), the files it names, and the distinctive words of its title and of
// the messages printed before it (e.g. `NFS: Invalid unlock attempted`).
import type { CrashReport } from '../report/types.ts';
import { normaliseFunc, type QueryFunc, wordsOf } from './query.ts';

/** Frames that appear in every oops or every syscall and say nothing about the bug. */
const GENERIC = new Set([
  'dump_stack',
  'dump_stack_lvl',
  'show_stack',
  'panic',
  '__warn',
  'warn_slowpath_fmt',
  'report_bug',
  'handle_bug',
  'do_error_trap',
  'do_trap',
  'do_invalid_op',
  'exc_invalid_op',
  'asm_exc_invalid_op',
  'exc_page_fault',
  'asm_exc_page_fault',
  'page_fault',
  'do_page_fault',
  '__do_page_fault',
  'handle_mm_fault',
  'die',
  'oops_end',
  'no_context',
  'bad_area_nosemaphore',
  'do_syscall_64',
  'entry_SYSCALL_64_after_hwframe',
  'entry_SYSCALL_64',
  'ret_from_fork',
  'ret_from_fork_asm',
  'kthread',
  'worker_thread',
  'process_one_work',
  'kasan_report',
  'print_report',
  'print_address_description',
  '__asan_load8',
  '__asan_store8',
  'kasan_check_range',
  'el0_svc',
  'el0t_64_sync_handler',
  'el0t_64_sync',
  'invoke_syscall',
  'el0_svc_common',
  'do_el0_svc',
  'smpboot_thread_fn',
  'cpu_startup_entry',
  'do_idle',
]);

export interface ReportQuery {
  funcs: QueryFunc[];
  files: string[];
  words: string[];
}

/** Builds the function/file/word query of a report (at most maxFrames distinct functions). */
export function queryFromReport(r: CrashReport, maxFrames = 16): ReportQuery {
  const funcs: QueryFunc[] = [];
  const seen = new Set<string>();
  const files = new Set<string>();
  // Reliable frames first in stack order; `? func` guesses only when nothing else is known.
  const frames =
    r.frames.filter((f) => f.reliable).length > 0 ? r.frames.filter((f) => f.reliable) : r.frames;
  for (const f of frames) {
    const n = normaliseFunc(f.func);
    if (!n || GENERIC.has(n) || n.startsWith('asm_') || n.startsWith('entry_') || seen.has(n)) continue;
    seen.add(n);
    funcs.push({ name: n, depth: funcs.length });
    if (f.file) files.add(f.file);
    if (funcs.length >= maxFrames) break;
  }
  if (r.guiltyFrame) {
    const g = normaliseFunc(r.guiltyFrame);
    // The faulting function (from RIP/pc) is often not printed among the trace frames.
    if (!seen.has(g) && !GENERIC.has(g)) {
      funcs.unshift({ name: g, depth: 0 });
      funcs.forEach((f, i) => {
        f.depth = i;
      });
    }
  }
  if (r.bugLocation?.file) files.add(r.bugLocation.file);
  const words = new Set<string>();
  for (const w of wordsOf([r.title, ...r.messages].join('\n'))) words.add(w);
  return { funcs, files: [...files], words: [...words] };
}
