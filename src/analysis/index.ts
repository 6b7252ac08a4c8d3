// vmcore triage: the playbook over a live crash session or a saved transcript, and its report.
import { splitTranscript } from '../vmcore/parse/index.ts';
import type { AnalysisReport } from './model.ts';
import { type PlaybookOptions, runPlaybook } from './playbook.ts';
import { type CrashRunner, liveSource, transcriptSource } from './source.ts';

export * from './model.ts';
export { renderHtml, renderMarkdown } from './render.ts';
export { type CommandSource, type CrashRunner, liveSource, Q, transcriptSource } from './source.ts';
export { type PlaybookOptions, runPlaybook };

/** Analyses a saved crash session or Markdown notes (transcript mode). */
export async function analyzeTranscript(text: string, opts: PlaybookOptions = {}): Promise<AnalysisReport> {
  const entries = splitTranscript(text);
  if (entries.length === 0) {
    throw new Error(
      'no crash commands found in the transcript (expected `crash> CMD` lines or Markdown with commands and fenced output)',
    );
  }
  return runPlaybook(transcriptSource(entries), opts);
}

/** Analyses a dump through a live session (anything with run(cmd)). */
export function analyzeLive(session: CrashRunner, opts: PlaybookOptions = {}): Promise<AnalysisReport> {
  return runPlaybook(liveSource(session), opts);
}
