// Crash: one crash report with its raw log (the report's lines highlighted), registers, Code:
// bytes with the faulting byte, modules, taint decoded to words, and the annotated trace with
// file:line links to Elixir for upstream kernels.
import type { Crash, StoredLog } from '../../../store/types.ts';
import { html, type SafeHtml } from '../html.ts';
import { fmtTime, page } from '../layout.ts';
import { analysesList, similarityText } from './bucket.ts';
import {
  codeBytes,
  messagesBlock,
  modulesList,
  registersTable,
  reportFacts,
  taintBlock,
  traceTable,
} from './report.ts';

/** Lines of context shown around the report when the whole log is long. */
export const LOG_CONTEXT = 40;
/** With `?log=all`, logs up to this many lines are shown whole (else LOG_WIDE lines of context). */
export const LOG_WHOLE = 20_000;
export const LOG_WIDE = 2_000;

export interface CrashView {
  crash: Crash;
  log: StoredLog | null;
  /** Show the whole log (or a wide window of a huge one) instead of the report and some context. */
  wholeLog?: boolean;
}

interface LogWindow {
  lines: string[];
  /** Line number of lines[0] in the log (1-based). */
  first: number;
  total: number;
}

function logWindow(v: CrashView): LogWindow {
  const c = v.crash;
  const text = v.log?.text;
  if (typeof text === 'string') {
    const all = text.split(/\r?\n/);
    if (all.length > 0 && all[all.length - 1] === '') all.pop();
    if (v.wholeLog && all.length <= LOG_WHOLE) return { lines: all, first: 1, total: all.length };
    const ctx = v.wholeLog ? LOG_WIDE : LOG_CONTEXT;
    const from = Math.max(1, c.report.startLine - ctx);
    const to = Math.min(all.length, c.report.endLine + ctx);
    return { lines: all.slice(from - 1, to), first: from, total: all.length };
  }
  const lines = c.rawText.split(/\r?\n/);
  return { lines, first: c.rawStartLine, total: c.rawStartLine + lines.length - 1 };
}

function rawLog(v: CrashView): SafeHtml {
  const w = logWindow(v);
  const { startLine, endLine } = v.crash.report;
  const rows = w.lines.map((line, i) => {
    const n = w.first + i;
    const hl = n >= startLine && n <= endLine;
    return html`<span id="L${n}" class="ln${hl ? ' hl' : ''}"><a class="lno" href="#L${n}" aria-hidden="true" tabindex="-1">${n}</a>${line}</span>\n`;
  });
  const partial = w.first > 1 || w.first + w.lines.length - 1 < w.total;
  return html`<p>Lines ${startLine}–${endLine} of the log are this report (highlighted, <a href="#L${startLine}">jump to it</a>).${
    partial
      ? html` Showing lines ${w.first}–${w.first + w.lines.length - 1} of ${w.total}${
          v.log?.text && !v.wholeLog
            ? html`: <a href="/crashes/${v.crash.id}?log=all#L${startLine}">show the whole log</a>`
            : ''
        }.`
      : ''
  }${v.log ? html` <a href="/logs/${v.log.id}/raw">Download the whole log</a> (${v.log.size} bytes, from ${v.log.source}).` : ''}</p>
<pre class="log" tabindex="0" aria-label="Raw console log">${rows}</pre>`;
}

export function renderCrash(v: CrashView): string {
  const c = v.crash;
  const r = c.report;
  const release = r.kernelRelease ?? c.kernel;
  const body = html`<nav class="crumbs" aria-label="Breadcrumb"><a href="/">Buckets</a> › ${
    c.bucketId !== null ? html`<a href="/buckets/${c.bucketId}">bucket ${c.bucketId}</a> › ` : ''
  }crash ${c.id}</nav>
<h1>${c.title}</h1>
${reportFacts(r, [
  ['Host', c.host],
  ['Kernel (as ingested)', c.kernel],
  ['Occurred', fmtTime(c.occurredAt)],
  ['Received', fmtTime(c.receivedAt)],
  [
    'Bucket',
    c.bucketId !== null
      ? html`<a href="/buckets/${c.bucketId}">${c.bucketId}</a>: ${similarityText(c.rule, c.similarity)}`
      : 'none',
  ],
])}
${messagesBlock(r, 2)}
<section aria-labelledby="h-trace"><h2 id="h-trace">Call trace</h2>
${traceTable(r, release, 'Call trace, innermost frame first.')}
</section>
<div class="cols">
<section aria-labelledby="h-regs"><h2 id="h-regs">Registers</h2>${registersTable(r)}</section>
<section aria-labelledby="h-taint"><h2 id="h-taint">Taint</h2>${taintBlock(r)}
<h2 id="h-mods">Modules</h2>${modulesList(r)}</section>
</div>
<section aria-labelledby="h-code"><h2 id="h-code"><code>Code:</code> bytes</h2>${codeBytes(r)}</section>
<section aria-labelledby="h-log"><h2 id="h-log">Raw log</h2>${rawLog(v)}</section>
<section aria-labelledby="h-analyses"><h2 id="h-analyses">Analyses</h2>${analysesList(c.analyses)}</section>`;
  return page({ title: c.title, section: 'buckets', body });
}
