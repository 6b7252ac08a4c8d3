// `ktriage src ...`: build and query the kernel source index (src/source).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../main.ts';

const DEFAULT_INDEX = '.ktriage-src.db';

/** The index to query: --index, else `.ktriage-src.db` in the current directory or $KTRIAGE_SRC_INDEX. */
function indexPath(opt: string | undefined): string {
  const p = opt ?? process.env.KTRIAGE_SRC_INDEX ?? DEFAULT_INDEX;
  const abs = resolve(p);
  if (!existsSync(abs)) {
    throw new UsageError(
      `source index ${abs} does not exist; build it with \`ktriage src index TREE\` or pass --index FILE`,
    );
  }
  return abs;
}

function positiveInt(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${name} ${v}: expected a non-negative integer`);
  return n;
}

async function withIndex<T>(
  opt: string | undefined,
  fn: (ix: import('../../source/query.ts').SourceIndex) => T | Promise<T>,
): Promise<T> {
  const { openSourceIndex, IndexError } = await import('../../source/index.ts');
  let ix: import('../../source/query.ts').SourceIndex;
  try {
    ix = openSourceIndex(indexPath(opt));
  } catch (err) {
    if (err instanceof IndexError) throw new UsageError(err.message);
    throw err;
  }
  try {
    return await fn(ix);
  } catch (err) {
    if (err instanceof IndexError) throw new UsageError(err.message);
    throw err;
  } finally {
    ix.close();
  }
}

const out = (s: string): void => {
  process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
};

export function register(program: Command): void {
  const src = program
    .command('src')
    .description('kernel source index: callers (incl. ops tables and work items), writers, enums');

  src
    .command('index')
    .argument('<tree>', 'kernel source tree')
    .option('--index <file>', 'index file (default: TREE/.ktriage-src.db)')
    .option('--jobs <n>', 'worker threads (default: one per core; 0 = no workers)')
    .option(
      '--only <paths>',
      'comma-separated paths relative to TREE (dirs, files, `*` globs) to index instead of the whole tree',
    )
    .option('--json', 'print the statistics as JSON')
    .description('parse the tree with tree-sitter-c and build (or incrementally update) the index')
    .action(async (tree: string, o: { index?: string; jobs?: string; only?: string; json?: boolean }) => {
      const { indexTree, IndexError } = await import('../../source/index.ts');
      const { SingleBar, Presets } = await import('cli-progress');
      const bar = new SingleBar(
        {
          stream: process.stderr,
          format: 'indexing [{bar}] {percentage}% {value}/{total} files {mb} MB {eta_formatted}',
          hideCursor: true,
        },
        Presets.shades_classic,
      );
      let started = false;
      let stats: Awaited<ReturnType<typeof indexTree>>;
      try {
        stats = await indexTree({
          tree,
          index: o.index,
          jobs: o.jobs === undefined ? undefined : positiveInt('--jobs', o.jobs),
          only: o.only
            ? o.only
                .split(',')
                .map((s) => s.trim())
                .filter(Boolean)
            : undefined,
          onProgress: (done, total, bytes) => {
            if (!started) {
              bar.start(total, done, { mb: '0' });
              started = true;
            } else bar.update(done, { mb: (bytes / 1e6).toFixed(0) });
          },
        });
      } catch (err) {
        if (started) bar.stop();
        if (err instanceof IndexError) throw new UsageError(err.message);
        throw err;
      }
      if (started) bar.stop();
      if (o.json) {
        out(JSON.stringify(stats, null, 2));
        return;
      }
      out(
        [
          `index: ${stats.index}`,
          `files: ${stats.files} (${stats.parsed} parsed, ${stats.unchanged} unchanged, ${stats.removed} removed, ${stats.failed.length} failed)`,
          `parsed: ${(stats.bytesParsed / 1e6).toFixed(1)} MB in ${(stats.elapsedMs / 1000).toFixed(1)} s`,
          `functions: ${stats.functions} (${stats.functionsWithErrors} with parse errors in the body)`,
          `direct calls: ${stats.calls}, field calls: ${stats.fieldCalls}, function refs: ${stats.fnRefs}, field writes: ${stats.writes}`,
          `parse errors: ${stats.parseErrors} in ${stats.filesWithParseErrors} files (\`ktriage src errors\` lists them)`,
          ...stats.failed.slice(0, 20).map((f) => `failed: ${f.file}: ${f.error}`),
        ].join('\n'),
      );
    });

  src
    .command('errors')
    .option('--index <file>', 'index file')
    .option('--limit <n>', 'files to list', '50')
    .option('--json', 'JSON output')
    .description(
      'files tree-sitter could not fully parse, worst first (ERROR nodes, lines, functions affected)',
    )
    .action(async (o: { index?: string; limit: string; json?: boolean }) => {
      await withIndex(o.index, (ix) => {
        const rows = ix.parseErrors(positiveInt('--limit', o.limit));
        if (o.json) return out(JSON.stringify(rows, null, 2));
        for (const r of rows) {
          out(
            `${r.file}: ${r.errors} error nodes (lines ${r.lines.slice(0, 10).join(',')}${r.lines.length > 10 ? ',...' : ''}); ${r.functionsWithErrors}/${r.functions} functions affected`,
          );
        }
      });
    });

  src
    .command('callers')
    .argument('<func>', 'function name')
    .option('--index <file>', 'index file')
    .option('--depth <n>', 'levels of callers', '1')
    .option(
      '--to-entry',
      'walk up to entry points (syscalls, VFS/aops ops, work items, RPC callbacks, timers, kthreads, init)',
    )
    .option('--json', 'JSON output')
    .description('direct and indirect callers (through ops-table fields, work items, registered callbacks)')
    .action(async (func: string, o: { index?: string; depth: string; toEntry?: boolean; json?: boolean }) => {
      const depth = positiveInt('--depth', o.depth);
      await withIndex(o.index, async (ix) => {
        const { formatCallers, formatEntryPaths } = await import('../../source/format.ts');
        if (o.toEntry) {
          const paths = ix.pathsToEntry(func, { maxDepth: Math.max(depth, 12) });
          return out(o.json ? JSON.stringify({ func, paths }, null, 2) : formatEntryPaths(func, paths));
        }
        const r = ix.callers(func, depth);
        out(o.json ? JSON.stringify(r, null, 2) : formatCallers(r));
      });
    });

  src
    .command('writers')
    .argument('<struct.field>', 'e.g. nfs_page.wb_flags')
    .option('--index <file>', 'index file')
    .option('--bit <name>', 'only writes of this bit (bit operations, |= and &= ~)')
    .option('--depth <n>', 'levels of helper callers', '4')
    .option('--json', 'JSON output')
    .description(
      'every place that assigns the field or sets/clears a bit in it, also through helper functions',
    )
    .action(async (sf: string, o: { index?: string; bit?: string; depth: string; json?: boolean }) => {
      const m = /^(?:struct\s+)?(\w+)\.(\w+)$/.exec(sf.trim());
      if (!m) throw new UsageError(`writers ${sf}: expected STRUCT.FIELD, e.g. nfs_page.wb_flags`);
      await withIndex(o.index, async (ix) => {
        const { formatWriters } = await import('../../source/format.ts');
        const r = ix.writers(m[1]!, m[2]!, { bit: o.bit, depth: positiveInt('--depth', o.depth) });
        out(o.json ? JSON.stringify(r, null, 2) : formatWriters(r));
      });
    });

  src
    .command('enum')
    .argument('<name>', 'enum constant, enum type, or prefix of constants')
    .option('--index <file>', 'index file')
    .option('--json', 'JSON output')
    .description('enum constants with their values')
    .action(async (name: string, o: { index?: string; json?: boolean }) => {
      await withIndex(o.index, (ix) => {
        const groups = ix.enums(name);
        if (groups.length === 0)
          throw new UsageError(`enum ${name}: no enum constant, enum type or prefix match in the index`);
        if (o.json) return out(JSON.stringify(groups, null, 2));
        for (const g of groups) {
          out(`enum ${g.enum ?? '(anonymous)'} at ${g.file}:${g.line}`);
          for (const c of g.constants) {
            const v = c.value === null ? '?' : c.value;
            const hex =
              c.value !== null && /^\d+$/.test(c.value) && BigInt(c.value) > 9n
                ? ` (0x${BigInt(c.value).toString(16)})`
                : '';
            out(`  ${c.name} = ${v}${hex}${c.expr && c.expr !== c.value ? `   [${c.expr}]` : ''}`);
          }
        }
      });
    });

  src
    .command('def')
    .argument('<name>', 'function, struct, macro, enum or enum constant')
    .option('--index <file>', 'index file')
    .option('--json', 'JSON output')
    .description('where NAME is defined')
    .action(async (name: string, o: { index?: string; json?: boolean }) => {
      await withIndex(o.index, (ix) => {
        const defs = ix.def(name);
        if (defs.length === 0) throw new UsageError(`def ${name}: not defined anywhere in the index`);
        if (o.json) return out(JSON.stringify(defs, null, 2));
        for (const d of defs) {
          const extra =
            d.kind === 'function' && d.parseErrors
              ? ' (body has parse errors)'
              : d.value
                ? ` = ${d.value}`
                : '';
          out(`${d.kind} ${d.name} ${d.file}:${d.line}${d.endLine ? `-${d.endLine}` : ''}${extra}`);
        }
      });
    });
}
