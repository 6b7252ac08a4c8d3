// Records a crash session (startup and every command with its output) so that parser tests can use
// real output without a vmcore: a JSON file (machine-readable) and a `crash>` transcript beside it
// (the format splitTranscript() in ./parse reads, and what a person would paste).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SessionRecorder } from './session.ts';

export interface RecordedCommand {
  command: string;
  output: string;
  errors: string[];
  durationMs: number;
  /** Set when the command failed in the driver (timeout, session closed). */
  error?: string;
}

export interface RecordedSession {
  schema: 1;
  recordedAt: string;
  vmlinux: string;
  vmcore: string;
  args: string[];
  startup: { output: string; durationMs: number };
  commands: RecordedCommand[];
  /** Free-form facts about where the session comes from (scenario, dump format, crash version). */
  meta: Record<string, unknown>;
}

/** Collects a session in memory; save() writes `<base>.json` and `<base>.txt`. */
export class FileRecorder implements SessionRecorder {
  readonly session: RecordedSession;
  constructor(
    readonly basePath: string,
    meta: Record<string, unknown> = {},
  ) {
    this.session = {
      schema: 1,
      recordedAt: new Date().toISOString(),
      vmlinux: '',
      vmcore: '',
      args: [],
      startup: { output: '', durationMs: 0 },
      commands: [],
      meta,
    };
  }

  started(info: {
    vmlinux: string;
    vmcore: string;
    args: string[];
    output: string;
    durationMs: number;
  }): void {
    Object.assign(this.session, { vmlinux: info.vmlinux, vmcore: info.vmcore, args: info.args });
    this.session.startup = { output: info.output, durationMs: info.durationMs };
  }

  command(entry: RecordedCommand): void {
    this.session.commands.push({ ...entry });
  }

  save(): { json: string; transcript: string } {
    mkdirSync(dirname(this.basePath), { recursive: true });
    const json = `${this.basePath}.json`;
    const transcript = `${this.basePath}.txt`;
    writeFileSync(json, `${JSON.stringify(this.session, null, 1)}\n`);
    writeFileSync(transcript, toTranscript(this.session));
    return { json, transcript };
  }
}

/** `crash> CMD` followed by its output, for every command (startup output first). */
export function toTranscript(s: RecordedSession): string {
  const parts: string[] = [];
  if (s.startup.output) parts.push(`${s.startup.output.trimEnd()}\n`);
  for (const c of s.commands) {
    parts.push(
      `crash> ${c.command}\n${c.output.endsWith('\n') || c.output === '' ? c.output : `${c.output}\n`}`,
    );
    if (c.error) parts.push(`# ktriage: ${c.error.split('\n')[0]}\n`);
  }
  return parts.join('');
}

/** Reads a recorded session back. */
export function loadRecordedSession(path: string): RecordedSession {
  const data = JSON.parse(readFileSync(path, 'utf8')) as RecordedSession;
  if (data.schema !== 1 || !Array.isArray(data.commands))
    throw new Error(`${path}: not a recorded crash session (schema 1)`);
  return data;
}

/** The output of the first recorded command equal to `command` (after trimming), or null. */
export function recordedOutput(s: RecordedSession, command: string): string | null {
  const c = s.commands.find((x) => x.command === command.trim() && !x.error);
  return c ? c.output : null;
}
