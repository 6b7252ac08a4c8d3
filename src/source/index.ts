// Kernel source index: build with indexTree(), query with openSourceIndex().
//
// Model: tree-sitter-c parses each .c/.h file after a length-preserving blanking of annotation
// macros (blank.ts); one Query per file records function definitions, direct calls, calls through
// struct fields (root variable type + member path), functions stored into fields (designated
// initializers with the declared struct type, `x->f = fn`), callback registrations and the calls
// that trigger them (tables.ts), field writes (assignments, |=, &= ~, bitops with the bit), enums,
// structs with struct-typed fields, typedefs and #defines. Types along member paths are resolved at
// query time (query.ts), so a file's facts never depend on other files and re-indexing is per file.
//
// Known limits (reported, not hidden): macro bodies are not parsed (calls inside #define are
// missing), statement-like macros (`ifdebug(X) f();`) and #ifdef-split constructs produce parse
// errors (counted per file, `src errors`), one configuration is not chosen (every #ifdef branch is
// indexed), types resolve through declared struct types only (no casts, no container_of results),
// and calls in tracepoint macro arguments have no enclosing function.
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
