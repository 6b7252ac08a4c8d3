// The crash store's public interface: what the CLI, the HTTP API, the dashboard (issue 6) and the
// analysis (issue 7) code against. Two implementations share one Kysely code path: SQLite
// (better-sqlite3, WAL, the default `./ktriage.db` or $KTRIAGE_DB) and PostgreSQL (`postgres://...`).
// Evolve additively: add optional fields and methods, never rename or remove (stored JSON, callers).
import type { CrashReport } from '../report/types.ts';

/** Timestamps cross this interface as ISO-8601 strings in UTC (`2026-11-25T18:20:15.000Z`). */
export type IsoTime = string;

export type Dialect = 'sqlite' | 'postgres';

/** How a crash came to be in its bucket; recorded per membership, recomputed by `rebucket`. */
export type JoinRule =
  | 'new' // no bucket was close enough: this crash founded the bucket
  | 'title+stack' // same title and a stack similar enough (similarity >= sameTitleThreshold)
  | 'title' // same title; one side has no usable stack to compare
  | 'stack'; // different title, most similar bucket above crossTitleThreshold

/** What kind of text a log was recognised as before the parser ran. */
export type LogFormat =
  | 'console' // dmesg / serial console / netconsole text
  | 'kdump' // /var/crash/<host-or-ip>-<date>/vmcore-dmesg.txt or dmesg.txt
  | 'pstore' // /sys/fs/pstore/dmesg-*-N (the `Oops#1 Part1` header layout)
  | 'journal' // `journalctl -k` / `journalctl -o short*` text export
  | 'journal-json' // `journalctl -o json` (one JSON object per line)
  | 'journal-export'; // `journalctl -o export` (KEY=value blocks)

// ---------------------------------------------------------------------------------------------
// Ingest

export interface IngestInput {
  /** The log as read. Bytes are decoded as UTF-8; invalid sequences become U+FFFD (noted in warnings). */
  text: string | Uint8Array;
  /** Where it came from, for messages and the log record: a path, `stdin`, `api`. */
  source?: string;
  /** Host name or IP; falls back to what the format tells (kdump dir, journal _HOSTNAME), else `unknown`. */
  host?: string | null;
  /** Kernel release override (`6.1.0-18-amd64`); else the report's own `kernelRelease`, else `unknown`. */
  kernel?: string | null;
  /** When the crash happened; else what the format tells (kdump dir date, journal timestamp), else received time. */
  occurredAt?: IsoTime | Date | null;
  /** Skip format detection. */
  format?: LogFormat;
}

export interface IngestedCrash {
  crashId: number;
  bucketId: number;
  title: string;
  /** false when this exact report from this host was already stored (content-hash idempotence). */
  created: boolean;
  rule: JoinRule;
  similarity: number | null;
  newBucket: boolean;
}

export interface IngestResult {
  /** The stored log record (logs are kept even when they hold no crash). */
  logId: number;
  source: string;
  host: string;
  format: LogFormat;
  /** The log was already stored for this host (same content hash): nothing new was written. */
  duplicateLog: boolean;
  crashes: IngestedCrash[];
  /** True when the parser found no crash report in the log; the log is still kept. */
  noCrash: boolean;
  /** Human-readable notes: invalid UTF-8 replaced, binary content, truncated storage, ... */
  warnings: string[];
}

// ---------------------------------------------------------------------------------------------
// Queries

export interface DayCount {
  /** UTC day `YYYY-MM-DD` (of occurredAt). */
  day: string;
  count: number;
}

export interface NameCount {
  name: string;
  count: number;
}

export type BucketSort = 'lastSeen' | 'firstSeen' | 'count' | 'title' | 'hosts';

export interface BucketFilter {
  /** Only crashes that occurred at or after this time count (and only buckets having any). */
  since?: IsoTime | Date;
  until?: IsoTime | Date;
  host?: string;
  /** Kernel release (exact) or a prefix ending in `*` (`6.1.*`). */
  kernel?: string;
  /** Case-insensitive substring over titles and normalised frames. */
  search?: string;
  sort?: BucketSort;
  /** Default: descending for lastSeen/firstSeen/count/hosts, ascending for title. */
  order?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
  /** Include `perDay` counts over the last `days` days (sparklines); default no per-day data. */
  perDayDays?: number;
}

/** One row of `ktriage buckets --json` (exactly these keys) plus optional extras for the dashboard. */
export interface BucketSummary {
  id: number;
  title: string;
  count: number;
  hosts: string[];
  kernels: string[];
  firstSeen: IsoTime;
  lastSeen: IsoTime;
}

export interface BucketListItem extends BucketSummary {
  kind: string;
  /** Present when BucketFilter.perDayDays was given: one entry per day, zeros included, oldest first. */
  perDay?: DayCount[];
}

export interface BucketList {
  items: BucketListItem[];
  /** Number of buckets matching the filter before paging. */
  total: number;
}

export interface CrashSummary {
  id: number;
  bucketId: number | null;
  title: string;
  kind: string;
  host: string;
  kernel: string;
  occurredAt: IsoTime;
  receivedAt: IsoTime;
  /** Why it joined its bucket. */
  rule: JoinRule | null;
  similarity: number | null;
}

export interface Bucket extends BucketSummary {
  kind: string;
  /** Normalised frames of the representative crash (the signature compared by bucketing). */
  signature: string[];
  representativeCrashId: number;
  hostCounts: NameCount[];
  kernelCounts: NameCount[];
  /** Every day from firstSeen to lastSeen (at most 366 most recent), zeros included. */
  perDay: DayCount[];
  /** First page of members, newest first; page further with listBucketCrashes. */
  members: CrashSummary[];
  analyses: AnalysisSummary[];
}

export interface Crash extends CrashSummary {
  /** The report's lines exactly as they were in the log (line prefixes and all). */
  rawText: string;
  /** Line number in the log of rawText's first line (1-based); report.startLine/endLine are log lines. */
  rawStartLine: number;
  report: CrashReport;
  /** frameSignature(report) at ingest. */
  signature: string[];
  contentHash: string;
  kernelBuild: string | null;
  logId: number;
  logSource: string;
  analyses: AnalysisSummary[];
}

export interface StoredLog {
  id: number;
  source: string;
  host: string;
  format: LogFormat;
  sha256: string;
  size: number;
  receivedAt: IsoTime;
  crashCount: number;
  noCrash: boolean;
  warnings: string[];
  /** The whole log text, when stored (logs above the store's size cap keep only the reports). */
  text: string | null;
}

export interface PageOpts {
  limit?: number;
  offset?: number;
}

// ---------------------------------------------------------------------------------------------
// Analyses: reports that later issues (vmcore triage, source, fixes) attach to crashes/buckets.

export type AnalysisKind = 'vmcore' | 'source' | 'fixes' | 'transcript' | 'note' | (string & {});

export interface AnalysisInput {
  kind: AnalysisKind;
  title: string;
  crashId?: number | null;
  bucketId?: number | null;
  /** At least one body. markdown for terminals, html for the dashboard, json for machines. */
  markdown?: string | null;
  html?: string | null;
  json?: unknown;
  /** Free-form provenance: tool versions, inputs (vmcore path, kernel release, ...). */
  meta?: Record<string, unknown>;
  /** The job that produced it, if any. */
  jobId?: number | null;
}

export interface AnalysisSummary {
  id: number;
  kind: AnalysisKind;
  title: string;
  crashId: number | null;
  bucketId: number | null;
  createdAt: IsoTime;
  formats: ('md' | 'html' | 'json')[];
}

export interface Analysis extends AnalysisSummary {
  markdown: string | null;
  html: string | null;
  json: unknown;
  meta: Record<string, unknown>;
  jobId: number | null;
}

export interface AnalysisFilter extends PageOpts {
  crashId?: number;
  bucketId?: number;
  kind?: AnalysisKind;
}

// ---------------------------------------------------------------------------------------------
// Jobs: heavy work. In-process on SQLite; pg-boss on PostgreSQL (`ktriage worker`).

export type JobState = 'queued' | 'active' | 'done' | 'failed' | 'cancelled';

export interface JobInput {
  /** Registered handler name: `ingest`, `selftest`, later `analyze.vmcore`, ... */
  kind: string;
  payload: unknown;
  /** Attempts after the first when the handler throws or its worker dies (default 2). */
  retries?: number;
  /** Seconds a single attempt may run before it counts as dead and is retried (default 900). */
  timeoutSeconds?: number;
}

export interface Job {
  id: number;
  kind: string;
  state: JobState;
  payload: unknown;
  attempts: number;
  maxAttempts: number;
  createdAt: IsoTime;
  startedAt: IsoTime | null;
  finishedAt: IsoTime | null;
  /** The worker (host:pid) that ran the last attempt. */
  worker: string | null;
  result: unknown;
  error: string | null;
}

export interface JobFilter extends PageOpts {
  state?: JobState;
  kind?: string;
}

// ---------------------------------------------------------------------------------------------

export interface StoreStats {
  crashes: number;
  buckets: number;
  logs: number;
  noCrashLogs: number;
  hosts: number;
  kernels: number;
  analyses: number;
}

export interface RebucketResult {
  crashes: number;
  buckets: number;
  moved: number;
}

export interface Store {
  readonly dialect: Dialect;
  /** Where it is: the SQLite file path, or the PostgreSQL URL with the password masked. */
  readonly location: string;

  /** Parse one log, store its crashes and bucket them. Idempotent per (host, report content). */
  ingestLog(input: IngestInput): Promise<IngestResult>;
  /** Many logs, batched into few transactions (the fast path for directories and benchmarks). */
  ingestLogs(inputs: IngestInput[]): Promise<IngestResult[]>;

  listBuckets(filter?: BucketFilter): Promise<BucketList>;
  getBucket(id: number, opts?: { members?: PageOpts }): Promise<Bucket | null>;
  listBucketCrashes(bucketId: number, opts?: PageOpts): Promise<CrashSummary[]>;
  /** Per-day counts for a bucket over a window (charts), zeros included. */
  bucketPerDay(
    bucketId: number,
    opts?: { since?: IsoTime | Date; until?: IsoTime | Date },
  ): Promise<DayCount[]>;

  getCrash(id: number): Promise<Crash | null>;
  listCrashes(
    filter?: PageOpts & { host?: string; kernel?: string; since?: IsoTime | Date },
  ): Promise<CrashSummary[]>;
  getLog(id: number): Promise<StoredLog | null>;
  /** Logs that held no crash report, newest first (kept and reported, not dropped). */
  listNoCrashLogs(opts?: PageOpts): Promise<StoredLog[]>;

  addAnalysis(a: AnalysisInput): Promise<number>;
  listAnalyses(filter?: AnalysisFilter): Promise<AnalysisSummary[]>;
  getAnalysis(id: number): Promise<Analysis | null>;

  /** Recompute every membership in crash id order with the current rules; deterministic. */
  rebucket(): Promise<RebucketResult>;

  enqueueJob(job: JobInput): Promise<number>;
  getJob(id: number): Promise<Job | null>;
  listJobs(filter?: JobFilter): Promise<Job[]>;
  /**
   * Cancels a queued or running job (a running handler is told through its signal); null when
   * there is no such job. A job that had already ended is returned unchanged.
   */
  cancelJob(id: number): Promise<Job | null>;

  /** Host names, sorted, at most `limit` of them (the dashboard's host filter suggests them). */
  listHosts(limit?: number): Promise<string[]>;

  stats(): Promise<StoreStats>;
  close(): Promise<void>;
}

/** Default SQLite path when neither --db nor $KTRIAGE_DB is given. */
export const DEFAULT_DB = './ktriage.db';

/**
 * `openStore(url?)` from src/store/index.ts: url is a file path (SQLite; default $KTRIAGE_DB or
 * ./ktriage.db) or `postgres://user:pass@host/db` / `postgresql://...`. Migrates on open.
 */
export type OpenStore = (url?: string) => Promise<Store>;
