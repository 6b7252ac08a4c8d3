// `ktriage parse [--json] FILE...`: every crash report in console logs (`-` reads stdin).
// Files are streamed through CrashLogParser, so memory stays flat however large the log; with
// --json each file's object is written incrementally as its reports close (one line per file).
import type { Command } from 'commander';
import type { CrashReport } from '../../report/types.ts';

// 64 KiB reads: a chunk's string stays in the young generation (strings over 128 KiB go to the
// large-object space, and 1 MiB chunks cost a full mark-compact every ~12 MB of log).
const CHUNK = 1 << 16;
const READ = 1 << 20;

/** The JSON shape of one report in `ktriage parse --json` output. */
export function reportJson(r: CrashReport): Record<string, unknown> {
  return {
    title: r.title,
    altTitles: r.altTitles,
    kind: r.kind,
    type: r.type,
    corrupted: r.corrupted,
    corruptedReason: r.corruptedReason,
    guiltyFrame: r.guiltyFrame,
    bugLocation: r.bugLocation,
    messages: r.messages,
    frames: r.frames,
    registers: r.registers,
    code: r.code,
    modules: r.modules,
    taint: r.taint,
    kernelRelease: r.kernelRelease,
    kernelBuild: r.kernelBuild,
    hardware: r.hardware,
    cpu: r.cpu,
    pid: r.pid,
    comm: r.comm,
    context: r.context,
    startLine: r.startLine,
    endLine: r.endLine,
  };
}

function summary(r: CrashReport, n: number): string {
  const out: string[] = [];
  out.push(`  [${n}] ${r.title}${r.corrupted ? `  (corrupted: ${r.corruptedReason})` : ''}`);
  out.push(`      kind ${r.kind}, type ${r.type}, lines ${r.startLine}-${r.endLine}`);
  const where: string[] = [];
  if (r.bugLocation)
    where.push(`at ${r.bugLocation.file}${r.bugLocation.line !== null ? `:${r.bugLocation.line}` : ''}`);
  if (r.cpu !== null) where.push(`CPU ${r.cpu}`);
  if (r.pid !== null) where.push(`PID ${r.pid}`);
  if (r.comm !== null) where.push(`comm ${r.comm}`);
  if (r.context !== null) where.push(`context ${r.context}`);
  if (where.length > 0) out.push(`      ${where.join(', ')}`);
  const kern: string[] = [];
  if (r.kernelRelease) kern.push(`kernel ${r.kernelRelease}${r.kernelBuild ? ` ${r.kernelBuild}` : ''}`);
  if (r.taint) kern.push(`tainted ${r.taint}`);
  if (r.hardware) kern.push(`hardware ${r.hardware}`);
  if (kern.length > 0) out.push(`      ${kern.join('; ')}`);
  if (r.messages.length > 0) out.push(`      before: ${r.messages.slice(-3).join(' | ')}`);
  if (r.guiltyFrame) out.push(`      guilty frame: ${r.guiltyFrame}`);
  const regs = ['RIP', 'pc', 'NIP', 'epc', 'PC'].map((k) => r.registers[k]).find((v) => v !== undefined);
  if (regs) out.push(`      faulting at: ${regs}`);
  if (r.frames.length > 0) {
    const shown = r.frames
      .filter((f) => f.reliable)
      .slice(0, 10)
      .map((f) => `${f.func}${f.module ? ` [${f.module}]` : ''}`);
    out.push(`      frames: ${shown.join(' < ')}${r.frames.length > 10 ? ' < ...' : ''}`);
  }
  if (r.modules.length > 0) out.push(`      modules: ${r.modules.length} linked in`);
  return out.join('\n');
}

async function* readChunks(file: string): AsyncGenerator<string> {
  const { StringDecoder } = await import('node:string_decoder');
  const decoder = new StringDecoder('utf8');
  if (file === '-') {
    for await (const b of process.stdin) yield decoder.write(b as Buffer);
    const rest = decoder.end();
    if (rest) yield rest;
    return;
  }
  const { openSync, readSync, closeSync } = await import('node:fs');
  const { isAscii } = await import('node:buffer');
  // Synchronous reads: the parser has nothing else to do meanwhile, and an asynchronous read left
  // the main thread idle ~0.5 s per 512 MB waiting for the thread pool's wake-ups.
  const fd = openSync(file, 'r');
  try {
    // One read per READ bytes (few system calls), handed on in CHUNK pieces (small strings).
    const buf = Buffer.allocUnsafe(READ);
    // Console logs are almost all ASCII: such a piece is copied byte for byte (no UTF-8 decoding),
    // unless the decoder holds the start of a character from the previous piece.
    let held = false;
    for (;;) {
      const bytesRead = readSync(fd, buf, 0, READ, null);
      if (bytesRead === 0) break;
      for (let at = 0; at < bytesRead; at += CHUNK) {
        const bytes = buf.subarray(at, Math.min(at + CHUNK, bytesRead));
        if (!held && isAscii(bytes)) {
          yield bytes.toString('latin1');
          continue;
        }
        yield decoder.write(bytes);
        held = endsInsideCharacter(bytes);
      }
    }
    const rest = decoder.end();
    if (rest) yield rest;
  } finally {
    closeSync(fd);
  }
}

/** Whether a chunk ends with an incomplete UTF-8 sequence (the decoder keeps its bytes). */
function endsInsideCharacter(b: Buffer): boolean {
  for (let k = 1; k <= 3 && k <= b.length; k++) {
    const c = b[b.length - k]!;
    if (c < 0x80) return false;
    if (c >= 0xc0) {
      const len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      return k < len;
    }
  }
  return false;
}

async function write(s: string): Promise<void> {
  if (!process.stdout.write(s)) await new Promise<void>((res) => process.stdout.once('drain', () => res()));
}

async function parseOne(file: string, json: boolean): Promise<boolean> {
  const { CrashLogParser } = await import('../../report/index.ts');
  const chunks = readChunks(file);
  let first: IteratorResult<string>;
  try {
    // Open and read before printing anything, so that an unreadable file leaves no partial output.
    first = await chunks.next();
  } catch (err) {
    process.stderr.write(`ktriage parse: cannot read ${file}: ${(err as Error).message}\n`);
    return false;
  }
  let out: string[] = [];
  let count = 0;
  const parser = new CrashLogParser((r) => {
    count++;
    out.push(json ? `${count > 1 ? ',' : ''}${JSON.stringify(reportJson(r))}` : `${summary(r, count)}\n`);
  });
  await write(json ? `{"file":${JSON.stringify(file)},"reports":[` : `${file}:\n`);
  const flush = async () => {
    if (out.length > 0) {
      const s = out.join('');
      out = [];
      await write(s);
    }
  };
  let ok = true;
  try {
    if (!first.done) {
      parser.push(first.value);
      await flush();
      for await (const chunk of chunks) {
        parser.push(chunk);
        await flush();
      }
    }
  } catch (err) {
    process.stderr.write(`ktriage parse: error reading ${file}: ${(err as Error).message}\n`);
    ok = false;
  }
  parser.end();
  if (json) {
    await flush();
    await write(`]${ok ? '' : ',"error":"read error"'}}\n`);
  } else {
    await flush();
    await write(`  ${count} report${count === 1 ? '' : 's'}${ok ? '' : ' (read error)'}\n`);
  }
  return ok;
}

/**
 * JIT tuning for this process, before the parser's modules load. A long log runs the parser's
 * functions through TurboFan several times while their type feedback fills in, and inlining makes
 * each compile about twice as large: on a 200 MB log perf samples of the compiler threads showed
 * ~0.35-0.55 s less CPU without it, the main thread the same or less (interleaved runs), and
 * bench:parse's marginal rate did not drop. The parser is written for it: per-character helpers
 * are written out in place (src/report/prefix.ts), rare paths are functions of their own.
 */
async function tuneJit(): Promise<void> {
  const { setFlagsFromString } = await import('node:v8');
  setFlagsFromString('--no-turbo-inlining');
}

export function register(program: Command): void {
  program
    .command('parse')
    .description('find every crash report in console logs (oops, BUG, WARNING, KASAN, lockdep, stalls, ...)')
    .argument('<files...>', 'console logs, dmesg, syslog or journalctl -k output; - reads stdin')
    .option('--json', 'one JSON object per input file per line: {"file", "reports": [...]}')
    .action(async (files: string[], o: { json?: boolean }) => {
      await tuneJit();
      let failed = false;
      for (const f of files) {
        if (!(await parseOne(f, o.json === true))) failed = true;
      }
      if (failed) process.exitCode = 2;
    });
}
