// The CPU half of ingest, done outside any transaction: decode, unwrap the container format, parse,
// sign and hash every report. The write half (store.ts) then only looks up and inserts.
import { createHash } from 'node:crypto';
import { parseLog } from '../report/index.ts';
import type { CrashReport } from '../report/types.ts';
import { frameSignature } from '../signature/index.ts';
import { signatureKey } from './bucketing.ts';
import { encodeReport } from './compact.ts';
import { toIso } from './db.ts';
import { decodeLog, extractLog } from './formats.ts';
import type { IngestInput, LogFormat } from './types.ts';

/** Logs larger than this keep only their reports' lines in the store, not the whole text. */
export const LOG_TEXT_CAP = Number(process.env.KTRIAGE_LOG_TEXT_CAP ?? 16 * 1024 * 1024);

export interface PreparedCrash {
  report: CrashReport;
  title: string;
  kind: string;
  signature: string[];
  /** signatureKey(title, signature): bucketing rule 0. */
  sigKey: string;
  /** The report's stored form (compact.ts) and the signature's JSON, made here (outside the write lock). */
  reportJson: string;
  signatureJson: string;
  rawText: string;
  rawStartLine: number;
  contentHash: string;
  kernelRelease: string;
  kernelBuild: string;
  occurredAt: string;
}

export interface PreparedLog {
  source: string;
  host: string;
  format: LogFormat;
  sha256: string;
  size: number;
  receivedAt: string;
  text: string | null;
  warnings: string[];
  crashes: PreparedCrash[];
}

export function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** Start offsets of the given 1-based lines, found in one forward scan. */
function lineSlices(text: string, ranges: { start: number; end: number }[]): string[] {
  const order = ranges.map((_, i) => i).sort((a, b) => ranges[a]!.start - ranges[b]!.start);
  const out = new Array<string>(ranges.length);
  // Offsets of line starts, computed lazily and only as far as needed.
  const starts: number[] = [0];
  const lineStart = (n: number): number => {
    while (starts.length < n) {
      const prev = starts[starts.length - 1]!;
      if (prev > text.length) return text.length + 1;
      const nl = text.indexOf('\n', prev);
      starts.push(nl < 0 ? text.length + 1 : nl + 1);
    }
    return starts[n - 1]!;
  };
  for (const i of order) {
    const { start, end } = ranges[i]!;
    const a = Math.min(lineStart(Math.max(1, start)), text.length);
    const b = Math.min(lineStart(end + 1) - 1, text.length);
    out[i] = text.slice(a, Math.max(a, b));
  }
  return out;
}

export function prepareLog(input: IngestInput, receivedAt = new Date().toISOString()): PreparedLog {
  const source = input.source ?? 'input';
  const decoded = decodeLog(input.text, source);
  const ex = extractLog(decoded.text, source, input.format);
  const warnings = [...decoded.warnings, ...ex.warnings];
  const reports = parseLog(ex.text);
  const host = input.host?.trim() || ex.host || 'unknown';
  const inputTime = toIso(input.occurredAt ?? null);
  if (input.occurredAt && !inputTime)
    warnings.push(`occurredAt ${String(input.occurredAt)} is not a time; ignored`);
  const raws = lineSlices(
    ex.text,
    reports.map((r) => ({ start: r.startLine, end: Math.max(r.startLine, r.endLine) })),
  );
  const seen = new Map<string, number>();
  const crashes: PreparedCrash[] = reports.map((report, i) => {
    const rawText = raws[i] ?? report.text;
    // The same report text twice in one log (no timestamps) is two crashes; the ordinal keeps
    // their hashes apart while re-ingesting the log reproduces both.
    // An explicit occurrence time is part of the identity: the same text at two given times is
    // two crashes (a fleet agent resending a log without a time keeps one).
    const base = sha256(inputTime ? `${rawText}\0@${inputTime}` : rawText);
    const nth = seen.get(base) ?? 0;
    seen.set(base, nth + 1);
    const release = input.kernel?.trim() || report.kernelRelease || 'unknown';
    const build =
      input.kernel?.trim() && input.kernel.trim() !== report.kernelRelease ? '' : (report.kernelBuild ?? '');
    const lineTime = ex.lineTimes?.[report.startLine - 1] ?? null;
    const signature = frameSignature(report);
    return {
      report,
      title: report.title,
      kind: report.kind,
      signature,
      sigKey: signatureKey(report.title, signature),
      reportJson: encodeReport(report, rawText),
      signatureJson: JSON.stringify(signature),
      rawText,
      rawStartLine: report.startLine,
      contentHash: nth === 0 ? base : sha256(`${rawText}\0${nth}`),
      kernelRelease: release,
      kernelBuild: build,
      occurredAt: inputTime ?? lineTime ?? ex.occurredAt ?? receivedAt,
    };
  });
  const size = typeof input.text === 'string' ? Buffer.byteLength(input.text) : input.text.byteLength;
  let text: string | null = decoded.text;
  // A log that is exactly its one report (a cut-out report, an API post) is not stored twice:
  // getLog rebuilds it from the crash's raw text.
  const only = crashes.length === 1 ? crashes[0]!.rawText : null;
  if (only !== null && (decoded.text === only || decoded.text === `${only}\n`)) text = null;
  else if (size > LOG_TEXT_CAP) {
    text = null;
    warnings.push(`log is ${size} bytes (> ${LOG_TEXT_CAP}): only the reports' lines are stored`);
  }
  return {
    source,
    host,
    format: ex.format,
    sha256: sha256(inputTime ? `${decoded.text}\0@${inputTime}` : decoded.text),
    size,
    receivedAt,
    text,
    warnings,
    crashes,
  };
}
