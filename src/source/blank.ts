// Length-preserving pre-pass over kernel C so that tree-sitter-c (which knows no preprocessor
// semantics) parses definitions that annotation macros would otherwise break, e.g.
// `static int __init init_nfs_fs(void)` (read as a declaration missing its `;`) or
// `void f(void) __releases(&x->lock)`. Every replaced byte becomes a space (newlines are kept), so
// line and column positions in the tree are positions in the original file.

/** Annotation macros without arguments (include/linux/compiler_types.h, init.h, linkage.h, cache.h). */
const BARE = [
  '__init',
  '__exit',
  '__initdata',
  '__exitdata',
  '__initconst',
  '__exitcall',
  '__initcall',
  '__init_or_module',
  '__meminit',
  '__meminitdata',
  '__meminitconst',
  '__ref',
  '__refdata',
  '__refconst',
  '__user',
  '__kernel',
  '__iomem',
  '__rcu',
  '__percpu',
  '__force',
  '__bitwise',
  '__safe',
  '__private',
  '__must_check',
  '__always_inline',
  '__inline',
  '__inline__',
  'noinline',
  '__noinline',
  'noinline_for_stack',
  'nokprobe_inline',
  '__maybe_unused',
  '__always_unused',
  '__used',
  '__cold',
  '__hot',
  '__pure',
  '__noreturn',
  '__weak',
  '__visible',
  '__packed',
  '__sched',
  '__latent_entropy',
  '__randomize_layout',
  '__no_randomize_layout',
  '__ro_after_init',
  '__read_mostly',
  '__cacheline_aligned',
  '__cacheline_aligned_in_smp',
  '____cacheline_aligned',
  '____cacheline_aligned_in_smp',
  '____cacheline_internodealigned_in_smp',
  '__nocfi',
  'noinstr',
  '__flatten',
  '__malloc',
  '__deprecated',
  '__kprobes',
  '__nostackprotector',
  '__no_sanitize_address',
  '__noclone',
  '__nonstring',
  '__naked',
  '__ksym',
  '__weak',
  'notrace',
  'asmlinkage',
  '__attribute_const__',
  '__irq_entry',
  '__softirq_entry',
  '__lockfunc',
  '__fastpath_inline',
  '__always_used',
  '__cpuidle',
  '__noinstr_section',
  '__unused',
  '__exit_p',
  '__devinit',
  '__devexit',
  '__cpuinit',
  '__net_init',
  '__net_exit',
  '__net_initdata',
  '__sysfs_init',
  '__initdata_or_meminfo',
  'fastcall',
  '__bpf_kfunc',
] as const;

/** Annotation macros whose balanced argument list is blanked with them. */
const WITH_ARGS = [
  '__attribute__',
  '__attribute',
  '__acquires',
  '__releases',
  '__must_hold',
  '__cond_acquires',
  '__cond_releases',
  '__acquire_ret',
  '__printf',
  '__scanf',
  '__aligned',
  '__section',
  '__alloc_size',
  '__counted_by',
  '__assume_aligned',
  '__diagnose_as',
  '__nocapture',
  '__realloc_size',
  '__no_sanitize_or_inline',
  '__designated_init',
  '__ATTR_UNUSED',
  '__annotate',
  '__cleanup',
  '__free',
  '__guarded_by',
  '__pt_guarded_by',
  '__retain',
  '__compiletime_error',
  '__compiletime_warning',
  '__nosave',
  'EXPORT_SYMBOL_NS',
] as const;

const withArgs = new Set<string>(WITH_ARGS);
// One alternation of literal words between word boundaries: linear, no nested quantifiers.
const WORD_RE = new RegExp(`\\b(?:${[...new Set<string>([...BARE, ...WITH_ARGS])].join('|')})\\b`, 'g');
// `SYSCALL_DEFINE3(open, const char __user *, filename, ...)` and COMPAT_ variants.
const SYSCALL_RE = /\b(COMPAT_)?SYSCALL_DEFINE([0-6])\(\s*(\w+)/g;
// `container_of(p, struct T, m)`, `list_first_entry(h, struct T, m)`: a type where an expression
// is expected. Only the keyword is blanked (`, struct T,` -> `,        T,`).
const STRUCT_ARG_RE = /,(\s*)struct(\s+\w+\s*[,)])/g;

/** Maximum bytes an annotation argument list may span; longer means the text is not what we think. */
const MAX_ARGS = 4000;

function isPreprocessorLine(text: string, at: number): boolean {
  let i = text.lastIndexOf('\n', at - 1) + 1;
  while (i < at && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
  return text.charCodeAt(i) === 35; /* '#' */
}

/** Index just past the parenthesised group starting at `open` (which holds '('), or -1. */
export function skipBalanced(text: string, open: number, limit = MAX_ARGS): number {
  let depth = 0;
  const end = Math.min(text.length, open + limit);
  for (let i = open; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 40) depth++;
    else if (c === 41) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/** Spaces for `text[from, to)`, keeping its line breaks. */
function blanked(text: string, from: number, to: number): string {
  const part = text.slice(from, to);
  return part.indexOf('\n') < 0 ? ' '.repeat(to - from) : part.replace(/[^\n]/g, ' ');
}

/**
 * Returns `text` with kernel annotation macros replaced by spaces and `SYSCALL_DEFINEn(name, ...)`
 * headers rewritten to `long sys_name(...)` (parameters blanked), same length and line breaks.
 */
export function blankKernelMacros(text: string): string {
  // Edits as [start, end, replacement] (replacement.length === end - start), applied in one pass.
  const edits: Array<[number, number, string]> = [];
  WORD_RE.lastIndex = 0;
  for (let m = WORD_RE.exec(text); m !== null; m = WORD_RE.exec(text)) {
    const start = m.index;
    if (isPreprocessorLine(text, start)) continue;
    let end = start + m[0].length;
    if (withArgs.has(m[0])) {
      let j = end;
      while (j < text.length && (text.charCodeAt(j) === 32 || text.charCodeAt(j) === 9)) j++;
      if (text.charCodeAt(j) === 40) {
        const close = skipBalanced(text, j);
        if (close < 0) continue;
        end = close;
      }
    }
    edits.push([start, end, blanked(text, start, end)]);
    WORD_RE.lastIndex = end;
  }
  SYSCALL_RE.lastIndex = 0;
  for (let m = SYSCALL_RE.exec(text); m !== null; m = SYSCALL_RE.exec(text)) {
    if (isPreprocessorLine(text, m.index)) continue;
    const open = m.index + m[0].indexOf('(');
    const close = skipBalanced(text, open);
    if (close < 0) continue;
    const name = `${m[1] ? 'compat_' : ''}sys_${m[3]}`;
    // `long sys_x(void)` padded with the original line breaks; must fit so positions do not move.
    const head = `long ${name}(void`;
    const span = close - m.index;
    if (head.length + 1 > span) continue;
    const body = blanked(text, m.index + head.length, close - 1);
    edits.push([m.index, close, `${head}${body})`]);
    SYSCALL_RE.lastIndex = close;
  }
  STRUCT_ARG_RE.lastIndex = 0;
  for (let m = STRUCT_ARG_RE.exec(text); m !== null; m = STRUCT_ARG_RE.exec(text)) {
    const kw = m.index + 1 + m[1]!.length;
    edits.push([kw, kw + 6, '      ']);
    STRUCT_ARG_RE.lastIndex = kw + 6;
  }
  if (edits.length === 0) return text;
  edits.sort((a, b) => a[0] - b[0]);
  const out: string[] = [];
  let pos = 0;
  for (const [s, e, r] of edits) {
    if (s < pos) continue; // overlapping edit (e.g. __user inside a SYSCALL_DEFINE header)
    out.push(text.slice(pos, s), r);
    pos = e;
  }
  out.push(text.slice(pos));
  return out.join('');
}
