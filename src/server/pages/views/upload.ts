// Upload: paste or upload a log with its host and kernel; a plain multipart POST form, so it works
// without JavaScript. The handler redirects to the crash page (or the log page when no crash was
// found in the log).
import type { StoredLog } from '../../../store/types.ts';
import { html } from '../html.ts';
import { fmtTime, page } from '../layout.ts';

export interface UploadForm {
  host: string;
  kernel: string;
  log: string;
}

export function renderUpload(
  form: UploadForm = { host: '', kernel: '', log: '' },
  error: string | null = null,
): string {
  const body = html`<h1>Upload a log</h1>
<p>Paste a console log (dmesg, serial console, netconsole, kdump's <code>vmcore-dmesg.txt</code>, pstore, a journal export) or choose a file. Every crash report in it is stored and bucketed; you are taken to the first one.</p>
${error ? html`<p class="error" role="alert" id="upload-error">${error}</p>` : ''}
<form class="upload" method="post" action="/upload" enctype="multipart/form-data"${error ? html` aria-describedby="upload-error"` : ''}>
<div><label for="u-host">Host</label>
<input id="u-host" name="host" value="${form.host}" autocomplete="off" placeholder="name or IP (optional)" maxlength="255"></div>
<div><label for="u-kernel">Kernel release</label>
<input id="u-kernel" name="kernel" value="${form.kernel}" autocomplete="off" placeholder="e.g. 6.1.76 (optional: taken from the log)" maxlength="255"></div>
<div><label for="u-file">Log file</label>
<input id="u-file" name="file" type="file"></div>
<div class="wide"><label for="u-log">…or paste the log</label>
<textarea id="u-log" name="log" rows="16" spellcheck="false">${form.log}</textarea></div>
<div class="actions"><button type="submit">Upload and analyse</button></div>
</form>`;
  return page({ title: 'Upload a log', section: 'upload', body });
}

/** Lines of a stored log shown on its page; the rest is in the download. */
export const LOG_PAGE_LINES = 5000;

function logText(text: string) {
  let end = -1;
  let n = 0;
  // Find the end of line LOG_PAGE_LINES without splitting a huge log into an array.
  while (n < LOG_PAGE_LINES) {
    end = text.indexOf('\n', end + 1);
    if (end < 0) break;
    n++;
  }
  const cut = end >= 0 && end < text.length - 1;
  return html`${cut ? html`<p class="muted">The first ${LOG_PAGE_LINES} lines; download the log for the rest.</p>` : ''}<pre class="log" tabindex="0">${cut ? text.slice(0, end) : text}</pre>`;
}

/** The page of a stored log that held no crash report (kept and reported, not dropped). */
export function renderLog(log: StoredLog): string {
  const body = html`<nav class="crumbs" aria-label="Breadcrumb"><a href="/">Buckets</a> › log ${log.id}</nav>
<h1>Log ${log.id}</h1>
<dl class="facts">
<dt>Source</dt><dd>${log.source}</dd>
<dt>Host</dt><dd>${log.host}</dd>
<dt>Format</dt><dd>${log.format}</dd>
<dt>Received</dt><dd>${fmtTime(log.receivedAt)}</dd>
<dt>Size</dt><dd>${log.size} bytes</dd>
<dt>Crash reports</dt><dd>${log.crashCount}</dd>
</dl>
${log.noCrash ? html`<p class="warn" role="status">No crash report was found in this log. It is kept, so that it can be parsed again when the parser learns new formats.</p>` : ''}
${log.warnings.length ? html`<ul class="warn">${log.warnings.map((w) => html`<li>${w}</li>`)}</ul>` : ''}
<h2>Text</h2>
${log.text === null ? html`<p class="muted">The whole text was not stored (too large).</p>` : logText(log.text)}
<p><a href="/logs/${log.id}/raw">Download</a></p>`;
  return page({ title: `Log ${log.id}`, section: 'other', body });
}
