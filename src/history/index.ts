// The history module's public API, for the CLI, the analysis playbook and the dashboard.
//
//   const idx = HistoryIndex.open('/srv/linux.git');            // or an index file
//   const q = queryFromReport(report);                          // CrashReport -> funcs/files/words
//   const ranked = findFixes([idx], { base: 'v6.1', ...q, limit: 20 });
//   functionHistory(idx, 'nfs_lock_and_join_requests', { file: 'fs/nfs/write.c', rev: 'HEAD' });

export { IndexError } from './db.ts';
export { GitError } from './git.ts';
export { type IndexOptions, type IndexResult, indexRepo } from './indexer.ts';
export { indexMailArchive, type MailIndexResult } from './mail.ts';
export {
  type Backport,
  type FixCandidate,
  type FixQuery,
  type FuncHistoryEntry,
  findFixes,
  functionHistory,
  HistoryIndex,
  normaliseFunc,
  openIndexes,
  type QueryFunc,
  type Reason,
} from './query.ts';
export { queryFromReport, type ReportQuery } from './report.ts';
