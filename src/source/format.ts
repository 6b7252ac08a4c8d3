// Plain-text rendering of source-index query results for the CLI.
import type { CallerEdge, CallersResult, EntryPath, WritersResult, WriteSite } from './query.ts';

function edgeLabel(e: CallerEdge): string {
  const at = `${e.file}:${e.line}`;
  if (e.kind === 'direct') return `${e.caller}  ${at}`;
  const stored = e.storedAt ? `; stored by ${e.storedAt.how} at ${e.storedAt.file}:${e.storedAt.line}` : '';
  const match = e.match === 'field-name' ? ' [field name only: struct type of the call site unresolved]' : '';
  const call = e.kind === 'work' ? e.expr : `${e.expr}(...)`;
  return `${e.caller}  ${at}  via ${e.through}: ${call}${stored}${match}`;
}

function entryLabel(e: CallerEdge): string {
  return e.entry && e.entry.length > 0
    ? `  <= entry: ${e.entry.map((x) => `${x.kind} (${x.via})`).join('; ')}`
    : '';
}

export function formatCallers(r: CallersResult): string {
  const lines: string[] = [];
  const defs = r.definitions.map(
    (d) => `${d.file}:${d.line}${d.parseErrors ? ' (body has parse errors)' : ''}`,
  );
  lines.push(`${r.func}  defined at ${defs.length > 0 ? defs.join(', ') : '(no definition indexed)'}`);
  for (const e of r.entry) lines.push(`  entry point: ${e.kind} (${e.via}) ${e.file}:${e.line}`);
  if (r.callers.length === 0) lines.push('  no callers found');
  const walk = (edges: CallerEdge[], indent: string): void => {
    for (const e of edges) {
      const tag = e.kind === 'direct' ? '' : e.kind === 'ops' ? '[ops] ' : '[work] ';
      lines.push(`${indent}<- ${tag}${edgeLabel(e)}${e.recursive ? ' (recursive)' : ''}${entryLabel(e)}`);
      if (e.callers) walk(e.callers, `${indent}   `);
    }
  };
  walk(r.callers, '  ');
  if (r.truncated) lines.push('  (output truncated: too many callers; lower --depth or use --to-entry)');
  return lines.join('\n');
}

export function formatEntryPaths(func: string, paths: EntryPath[]): string {
  if (paths.length === 0) return `${func}: no path to an entry point found`;
  const lines: string[] = [];
  for (const p of paths) {
    lines.push(`${p.entry.kind}: ${p.entry.func} (${p.entry.via}) ${p.entry.file}:${p.entry.line}`);
    // steps run from the entry function down to the queried one.
    for (const s of p.steps) {
      const how = s.kind === 'direct' ? 'calls' : `calls via ${s.through} (${s.expr})`;
      lines.push(`  ${s.caller} ${how} at ${s.file}:${s.line}`);
    }
    lines.push(`  -> ${func}`);
  }
  return lines.join('\n');
}

function site(w: WriteSite): string {
  const what = w.via ? `${w.via}(${w.bit ?? ''}, &${w.expr})` : `${w.expr} ${w.op} ${w.value ?? ''}`.trim();
  return `${w.func ?? '(file scope)'}  ${w.file}:${w.line}  ${w.op}${w.bit ? ` ${w.bit}` : ''}  ${what}`;
}

export function formatWriters(r: WritersResult): string {
  const lines: string[] = [`writers of struct ${r.struct}.${r.field}${r.bit ? ` bit ${r.bit}` : ''}`];
  lines.push(`bit operations and compound assignments: ${r.writers.length}`);
  for (const w of r.writers) lines.push(`  ${site(w)}`);
  lines.push(`whole-field assignments (may change any bit): ${r.assignments.length}`);
  for (const w of r.assignments) lines.push(`  ${site(w)}`);
  if (r.helpers.length > 0) {
    lines.push('through helpers (the function writes the field of its argument):');
    for (const h of r.helpers) {
      lines.push(
        `  ${h.helper} (param ${h.site.param}: ${h.site.op} ${h.site.bit ?? ''}) ${h.site.file}:${h.site.line}`,
      );
      const walk = (cs: typeof h.callers, indent: string): void => {
        for (const c of cs) {
          lines.push(
            `${indent}<- ${c.func}  ${c.file}:${c.line}  arg ${c.arg}${c.passesParam >= 0 ? ` (its param ${c.passesParam})` : ''}`,
          );
          if (c.callers) walk(c.callers, `${indent}   `);
        }
      };
      walk(h.callers, '    ');
    }
  }
  if (r.unresolved.length > 0) {
    lines.push(`writes to a field named ${r.field} whose struct type is unresolved: ${r.unresolved.length}`);
    for (const w of r.unresolved.slice(0, 50)) lines.push(`  ${site(w)}`);
  }
  return lines.join('\n');
}
