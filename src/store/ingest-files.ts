// Ingest from the file system: files, directories (recursive), stdin (`-`), kdump's
// /var/crash/<host-or-ip>-<date>/vmcore-dmesg.txt, pstore records (parts joined) and journal
// exports. Logs are prepared (parsed) one by one and written in batches; one bad file is reported
// with its reason and the rest go on.
import { lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import cliProgress from 'cli-progress';
import { InputError, isPstoreName, joinPstoreParts, pstoreHeader } from './formats.ts';
import { type PreparedLog, prepareLog } from './prepare.ts';
import type { IngestResult, LogFormat } from './types.ts';

export interface IngestPathsOptions {
  host?: string;
  kernel?: string;
  occurredAt?: string;
  format?: LogFormat;
  /** Show a progress bar: true/false, or undefined = on a TTY for large inputs, periodic lines otherwise. */
  progress?: boolean;
  /** Called for every stored log, in order. */
  onResult?: (r: IngestResult) => void;
  /** Called for every input that could not be ingested. */
  onError?: (source: string, reason: string) => void;
  /** Logs per write transaction. */
  batchLogs?: number;
  /** Stops between inputs when aborted (a cancelled job): what was written stays, whole batches. */
  signal?: AbortSignal;
}

export interface IngestSummary {
  inputs: number;
  logs: number;
  duplicateLogs: number;
  crashes: number;
  created: number;
  noCrash: string[];
  errors: { source: string; reason: string }[];
  buckets: number;
  newBuckets: number;
}

/** Refuse inputs the process cannot hold as a string (V8's limit is ~512 MiB of one-byte text). */
const MAX_FILE = Number(process.env.KTRIAGE_MAX_LOG_BYTES ?? 512 * 1024 * 1024);

interface Item {
  source: string;
  read: () => string | Buffer;
  size: number;
  format?: LogFormat;
}

function walk(path: string, out: string[]): void {
  const st = lstatSync(path);
  if (st.isSymbolicLink()) {
    // Follow file symlinks, not directory ones (loops).
    const t = statSync(path);
    if (t.isFile()) out.push(path);
    return;
  }
  if (st.isDirectory()) {
    for (const e of readdirSync(path).sort()) walk(join(path, e), out);
    return;
  }
  if (st.isFile()) out.push(path);
}

/** Expands paths into readable items; pstore parts of one dump become one item. */
export function expandPaths(paths: string[], errors: { source: string; reason: string }[]): Item[] {
  const items: Item[] = [];
  for (const p of paths) {
    if (p === '-') {
      items.push({ source: 'stdin', read: () => readFileSync(0), size: 0 });
      continue;
    }
    const files: string[] = [];
    try {
      walk(p, files);
    } catch (err) {
      errors.push({
        source: p,
        reason: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : String(err),
      });
      continue;
    }
    // pstore: group dmesg-* records of one directory by (reason, count) and join their parts.
    const pstore = new Map<string, { part: number; path: string }[]>();
    for (const f of files) {
      let size = 0;
      try {
        size = statSync(f).size;
      } catch (err) {
        errors.push({ source: f, reason: String(err) });
        continue;
      }
      if (isPstoreName(f) && basename(f).startsWith('dmesg-') && size < 4 * 1024 * 1024) {
        let head = '';
        try {
          head = readFileSync(f, 'latin1').slice(0, 64);
        } catch {}
        const h = pstoreHeader(head);
        if (h) {
          const key = `${dirname(f)}\n${h.reason}#${h.count}`;
          const list = pstore.get(key);
          if (list) list.push({ part: h.part, path: f });
          else pstore.set(key, [{ part: h.part, path: f }]);
          continue;
        }
      }
      items.push({ source: f, read: () => readFileSync(f), size });
    }
    for (const parts of pstore.values()) {
      const first = parts.sort((a, b) => a.part - b.part)[0]!.path;
      const size = parts.reduce((n, x) => n + statSync(x.path).size, 0);
      items.push({
        source: parts.length > 1 ? `${first} (+${parts.length - 1} parts)` : first,
        size,
        format: 'pstore',
        read: () => joinPstoreParts(parts.map((x) => ({ part: x.part, text: readFileSync(x.path, 'utf8') }))),
      });
    }
  }
  return items;
}

/** Anything that writes prepared logs: the KyselyStore. */
export interface PreparedWriter {
  writePrepared(p: PreparedLog[]): Promise<IngestResult[]>;
}

export async function ingestPaths(
  store: PreparedWriter,
  paths: string[],
  opts: IngestPathsOptions = {},
): Promise<IngestSummary> {
  const summary: IngestSummary = {
    inputs: 0,
    logs: 0,
    duplicateLogs: 0,
    crashes: 0,
    created: 0,
    noCrash: [],
    errors: [],
    buckets: 0,
    newBuckets: 0,
  };
  const items = expandPaths(paths, summary.errors);
  for (const e of summary.errors) opts.onError?.(e.source, e.reason);
  summary.inputs = items.length;
  const totalBytes = items.reduce((n, i) => n + i.size, 0);
  const progress = makeProgress(opts.progress, items.length, totalBytes);
  const buckets = new Set<number>();
  let batch: PreparedLog[] = [];
  let batchBytes = 0;
  const maxLogs = opts.batchLogs ?? 500;
  const flush = async () => {
    if (batch.length === 0) return;
    const results = await store.writePrepared(batch);
    batch = [];
    batchBytes = 0;
    for (const r of results) {
      summary.logs++;
      if (r.duplicateLog) summary.duplicateLogs++;
      if (r.noCrash) summary.noCrash.push(r.source);
      for (const c of r.crashes) {
        summary.crashes++;
        if (c.created) summary.created++;
        if (c.newBucket) summary.newBuckets++;
        buckets.add(c.bucketId);
      }
      opts.onResult?.(r);
    }
  };
  const receivedAt = new Date().toISOString();
  let done = 0;
  let doneBytes = 0;
  for (const it of items) {
    opts.signal?.throwIfAborted();
    try {
      const data = it.read();
      if (data.length > MAX_FILE)
        throw new InputError(it.source, `too large (${data.length} bytes > ${MAX_FILE})`);
      const p = prepareLog(
        {
          text: data,
          source: it.source,
          host: opts.host,
          kernel: opts.kernel,
          occurredAt: opts.occurredAt,
          format: opts.format ?? it.format,
        },
        receivedAt,
      );
      batch.push(p);
      batchBytes += p.size;
    } catch (err) {
      const reason =
        err instanceof InputError ? err.reason : err instanceof Error ? err.message : String(err);
      summary.errors.push({ source: it.source, reason });
      opts.onError?.(it.source, reason);
    }
    done++;
    doneBytes += it.size;
    progress.update(done, doneBytes);
    if (batch.length >= maxLogs || batchBytes > 32 * 1024 * 1024) await flush();
  }
  await flush();
  progress.stop();
  summary.buckets = buckets.size;
  return summary;
}

interface Progress {
  update(files: number, bytes: number): void;
  stop(): void;
}

function makeProgress(mode: boolean | undefined, files: number, bytes: number): Progress {
  const large = files > 200 || bytes > 16 * 1024 * 1024;
  const tty = Boolean(process.stderr.isTTY);
  if (mode === false || (mode === undefined && !large)) return { update() {}, stop() {} };
  if (tty) {
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: 'ingest [{bar}] {percentage}% | {value}/{total} inputs | {eta_formatted} left',
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(files, 0);
    return {
      update(n) {
        bar.update(n);
      },
      stop() {
        bar.stop();
      },
    };
  }
  // Not a terminal: a line every 5 seconds (KTRIAGE_PROGRESS_EVERY_MS), only if it takes that long.
  const every = Number(process.env.KTRIAGE_PROGRESS_EVERY_MS ?? 5000);
  const t0 = Date.now();
  let last = t0;
  return {
    update(n, b) {
      const now = Date.now();
      if (now - last >= every) {
        last = now;
        process.stderr.write(
          `ingest: ${n}/${files} inputs, ${(b / 1048576).toFixed(1)} MiB, ${((now - t0) / 1000).toFixed(0)} s\n`,
        );
      }
    },
    stop() {},
  };
}
