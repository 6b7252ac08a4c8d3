// Pieces of a crash report shared by the bucket and crash pages: the annotated trace (guilty frame
// marked, modules, unreliable frames dimmed, IRQ/task contexts), registers, Code: bytes, modules
// and taint decoded to words.
import type { CrashReport, Frame, FrameContext } from '../../../report/types.ts';
import { elixirIdentUrl, elixirSourceUrl } from '../elixir.ts';
import { html, link, type SafeHtml } from '../html.ts';
import { decodeTaint } from '../taint.ts';

const CONTEXT_LABEL: Record<FrameContext, string> = {
  task: 'task',
  irq: 'IRQ',
  softirq: 'softirq',
  nmi: 'NMI',
  exception: 'exception',
  unknown: '',
};

/** The rows of the trace table: the faulting instruction (RIP/pc), when printed, then the frames. */
export function traceFrames(report: CrashReport): { frame: Frame; ip: boolean }[] {
  const rows = report.frames.map((frame) => ({ frame, ip: false }));
  // Older stored reports (before ipFrame existed) lack the field.
  const ip = (report as Partial<CrashReport>).ipFrame;
  if (ip) rows.unshift({ frame: ip, ip: true });
  return rows;
}

/** Index into traceFrames() of the frame the title blames: the first whose function is report.guiltyFrame. */
export function guiltyIndex(report: CrashReport): number {
  const g = report.guiltyFrame;
  if (!g) return -1;
  const rows = traceFrames(report);
  let i = rows.findIndex((r) => r.frame.func === g);
  if (i < 0) i = rows.findIndex((r) => r.frame.func.split('.')[0] === g.split('.')[0]);
  return i;
}

function hex(n: number | null): string {
  return n === null ? '' : `0x${n.toString(16)}`;
}

function frameSource(f: Frame, release: string | null): SafeHtml {
  if (!f.file) return html``;
  const text = `${f.file}${f.line ? `:${f.line}` : ''}`;
  const url = elixirSourceUrl(release, f.file, f.line);
  return url
    ? link(url, text, html`rel="noopener noreferrer" title="${text} on Elixir (${release})"`)
    : html`${text}`;
}

let traceTables = 0;

/** The call trace as a table; `release` is the kernel release used for Elixir links (upstream only). */
export function traceTable(report: CrashReport, release: string | null, caption: string): SafeHtml {
  const all = traceFrames(report);
  if (all.length === 0) return html`<p class="muted">The report has no call trace.</p>`;
  const gi = guiltyIndex(report);
  const ipRows = all[0]?.ip ? 1 : 0;
  let prevCtx: FrameContext | null = null;
  const rows = all.map(({ frame: f, ip }, i) => {
    const ctxChanged = ip || f.context !== prevCtx;
    prevCtx = ip ? null : f.context;
    const classes = [
      f.reliable ? '' : 'unreliable',
      i === gi ? 'guilty' : '',
      ctxChanged && i > 0 ? 'ctxstart' : '',
    ]
      .filter(Boolean)
      .join(' ');
    const identUrl = elixirIdentUrl(release, f.func);
    const fn = identUrl
      ? link(identUrl, f.func, html`rel="noopener noreferrer" title="${f.func} on Elixir"`)
      : html`${f.func}`;
    const off = f.offset !== null ? `+${hex(f.offset)}${f.size !== null ? `/${hex(f.size)}` : ''}` : '';
    return html`<tr${classes ? html` class="${classes}"` : ''}>
<td class="num">${ip ? html`<abbr title="instruction pointer: where the CPU faulted">IP</abbr>` : i - ipRows}</td>
<td class="ctx">${ip ? html`<span class="ctx-exception">faulting instruction</span>` : ctxChanged ? html`<span class="ctx-${f.context}">${CONTEXT_LABEL[f.context] || '—'}</span>` : ''}</td>
<td class="fn"><code>${f.reliable ? '' : html`<span aria-hidden="true">? </span>`}${fn}${off}</code>${f.inlined ? html` <span class="tag">inline</span>` : ''}${i === gi ? html` <strong class="tag guilty-tag">guilty frame</strong>` : ''}${f.reliable ? '' : html` <span class="visually-hidden">(unreliable)</span>`}</td>
<td>${f.module ? html`<span class="mod">${f.module}</span>` : ''}</td>
<td class="src">${frameSource(f, release)}</td>
</tr>`;
  });
  const unreliable = all.filter((r) => !r.frame.reliable).length;
  const missingGuilty =
    gi < 0 && report.guiltyFrame
      ? html`<p class="muted">The guilty frame <code>${report.guiltyFrame}</code> is not in the printed trace.</p>`
      : '';
  // A CSS-only toggle (no script): hides the `?` frames the unwinder was not sure of.
  const toggleId = `hide-unreliable-${++traceTables}`;
  return html`${missingGuilty}${
    unreliable > 0
      ? html`<input type="checkbox" class="hide-unreliable" id="${toggleId}"> <label for="${toggleId}">Hide ${unreliable} unreliable frame${unreliable === 1 ? '' : 's'}</label>`
      : ''
  }<div class="tablewrap"><table class="trace">
<caption>${caption} <span class="legend"><span class="guilty-key">guilty frame</span> <span class="unreliable-key">? unreliable (dimmed)</span></span></caption>
<thead><tr><th scope="col">#</th><th scope="col">Context</th><th scope="col">Function</th><th scope="col">Module</th><th scope="col">Source</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>`;
}

/** Key facts of a report as a definition list. */
export function reportFacts(report: CrashReport, extra: [string, SafeHtml | string][] = []): SafeHtml {
  const loc = report.bugLocation;
  const rel = report.kernelRelease;
  const locUrl = loc ? elixirSourceUrl(rel, loc.file, loc.line) : null;
  const locText = loc ? `${loc.file}${loc.line ? `:${loc.line}` : ''}` : '';
  const items: [string, SafeHtml | string | null][] = [
    ['Kind', `${report.kind}${report.type ? ` (${report.type})` : ''}`],
    ['Guilty frame', report.guiltyFrame],
    ['Location', loc ? (locUrl ? link(locUrl, locText, html`rel="noopener noreferrer"`) : locText) : null],
    ['Kernel', rel ? `${rel}${report.kernelBuild ? ` ${report.kernelBuild}` : ''}` : null],
    ['Hardware', report.hardware],
    [
      'CPU / PID / Comm',
      report.cpu !== null || report.pid !== null || report.comm
        ? `${report.cpu ?? '?'} / ${report.pid ?? '?'} / ${report.comm ?? '?'}`
        : null,
    ],
    ['Context', report.context],
    [
      'Corrupted',
      report.corrupted ? `yes${report.corruptedReason ? `: ${report.corruptedReason}` : ''}` : null,
    ],
    ['Also titled', report.altTitles.length ? report.altTitles.join(' · ') : null],
    ...extra,
  ];
  return html`<dl class="facts">${items
    .filter(([, v]) => v !== null && v !== '')
    .map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>`;
}

/** The messages printed just before the report; `level` keeps the page's heading outline. */
export function messagesBlock(report: CrashReport, level: 2 | 3 = 3): SafeHtml {
  if (report.messages.length === 0) return html``;
  const h =
    level === 2 ? html`<h2>Messages before the report</h2>` : html`<h3>Messages before the report</h3>`;
  return html`${h}<pre class="log" tabindex="0">${report.messages.join('\n')}</pre>`;
}

/** Registers in a grid, in the order printed (RIP, RSP, EFLAGS, RAX, ...), a few to a row as the kernel prints them. */
export function registersTable(report: CrashReport): SafeHtml {
  const regs = Object.entries(report.registers);
  if (regs.length === 0) return html`<p class="muted">No registers in this report.</p>`;
  return html`<dl class="regs">${regs.map(([k, v]) => html`<div><dt>${k}</dt><dd><code>${v}</code></dd></div>`)}</dl>`;
}

export function codeBytes(report: CrashReport): SafeHtml {
  const code = report.code;
  if (!code || code.bytes.length === 0)
    return html`<p class="muted">No <code>Code:</code> line in this report.</p>`;
  const bytes = code.bytes.map((b, i) =>
    i === code.faultIndex
      ? html`<mark class="fault" title="faulting instruction starts here">${b}</mark>`
      : html`<span>${b}</span>`,
  );
  return html`<p class="codebytes"><code>${bytes.map((b, i) => (i === 0 ? b : html` ${b}`))}</code></p>
${code.faultIndex !== null ? html`<p class="muted">Marked: byte ${code.faultIndex} of ${code.bytes.length}, where the faulting instruction starts (printed as <code>&lt;${code.bytes[code.faultIndex] ?? ''}&gt;</code>).</p>` : html`<p class="muted">The report does not mark the faulting byte.</p>`}`;
}

export function modulesList(report: CrashReport): SafeHtml {
  if (report.modules.length === 0) return html`<p class="muted">No module list in this report.</p>`;
  const inTrace = new Set(report.frames.map((f) => f.module).filter((m): m is string => Boolean(m)));
  return html`<ul class="modules">${report.modules.map((m) => html`<li${inTrace.has(m) ? html` class="intrace"` : ''}>${m}${inTrace.has(m) ? html` <span class="tag">in trace</span>` : ''}</li>`)}</ul>`;
}

export function taintBlock(report: CrashReport): SafeHtml {
  if (!report.taint) return html`<p>Not tainted (or the report does not say).</p>`;
  const d = decodeTaint(report.taint);
  return html`<p>Printed as <code>${report.taint}</code>${d.gplOnly ? ' (G: only GPL-compatible modules loaded)' : ''}.</p>
${
  d.flags.length
    ? html`<table class="taint"><caption class="visually-hidden">Taint flags</caption>
<thead><tr><th scope="col">Bit</th><th scope="col">Letter</th><th scope="col">Meaning</th></tr></thead>
<tbody>${d.flags.map((f) => html`<tr><td class="num">${f.bit}</td><th scope="row">${f.letter}</th><td>${f.meaning}</td></tr>`)}</tbody></table>`
    : html`<p>No taint flags set.</p>`
}
${d.unknown.length ? html`<p class="warn">Unknown taint letters: ${d.unknown.join(' ')}</p>` : ''}`;
}
