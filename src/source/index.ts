// Kernel source index: build with indexTree(), query with openSourceIndex().
export { blankKernelMacros } from './blank.ts';
export { evalIntExpr, parseAccessPath } from './cexpr.ts';
export { IndexError } from './db.ts';
export { extractFile, type FileFacts } from './extract.ts';
export {
  defaultIndexPath,
  type IndexOptions,
  type IndexStats,
  indexTree,
  listSourceFiles,
} from './indexer.ts';
export * from './query.ts';
