// Renders an AnalysisReport as Markdown (readable in a terminal) and as HTML (for the dashboard;
// every string from the dump or the transcript is escaped).
import type { AnalysisReport, RecoveredValue } from './model.ts';

const CONF_MARK: Record<string, string> = { certain: 'certain', high: 'high', medium: 'medium', low: 'low' };

function val(v: RecoveredValue): string {
  return v.value !== null ? `0x${v.value}` : (v.expression ?? 'unknown');
}

/** Markdown: sections per playbook step, derivations as nested lists. */
export function renderMarkdown(r: AnalysisReport): string {
  const o: string[] = [];
  const p = r.panic;
  o.push(
    `# ktriage analysis${p.exception ? `: ${p.exception.function}${p.exception.offset !== null ? `+${p.exception.offset}` : ''}` : ''}`,
  );
  o.push('');
  o.push(
    `Mode: ${r.mode}. Kernel: ${r.kernel.release ?? 'unknown'}${r.kernel.source ? ` (from ${r.kernel.source})` : ''}. Arch: ${r.kernel.arch ?? 'unknown'}.`,
  );
  o.push('');
  o.push('## 1. Panic summary');
  if (p.message) o.push(`- Panic: ${p.message}`);
  if (p.title) o.push(`- Console report: ${p.title}${p.bugLocation ? ` (${p.bugLocation})` : ''}`);
  if (p.exception)
    o.push(
      `- Exception in ${p.exception.function}${p.exception.offset !== null ? `+${p.exception.offset}` : ''}${p.exception.module ? ` [${p.exception.module}]` : ''}${p.exception.rip ? `, RIP ${p.exception.rip}` : ''}`,
    );
  if (p.task)
    o.push(
      `- Task ${p.task.command} (pid ${p.task.pid}, task ${p.task.task})${p.cpu !== null ? ` on CPU ${p.cpu}` : ''}`,
    );
  o.push(`- Sources: ${p.sources.join(', ') || 'none'}`);
  o.push('');
  o.push('## 2. Registers and arguments per frame');
  for (const f of r.frames) {
    o.push(
      `### ${f.level === null ? 'exception' : `#${f.level}`} ${f.function}${f.module ? ` [${f.module}]` : ''} (pc ${f.pc}, sp ${f.sp})`,
    );
    const regs = Object.entries(f.registers).filter(([k]) => /^(RBX|RBP|R1[2-5]|X19|X2[0-8])$/.test(k));
    if (regs.length > 0)
      o.push(
        `- Callee-saved: ${regs.map(([k, v]) => `${k}=${val(v)} (${CONF_MARK[v.confidence]})`).join(', ')}`,
      );
    for (const a of f.arguments) {
      o.push(
        `- Argument ${a.index} ${a.name ?? ''}${a.type ? ` (${a.type})` : ''} in ${a.register}: **${val(a)}** (${CONF_MARK[a.confidence]}${a.typeSource ? `; type from ${a.typeSource}` : ''})`,
      );
      for (const d of a.derivation) o.push(`  - ${d.text} [\`${d.source}\`]`);
    }
    for (const l of f.loads)
      o.push(
        `- Load \`${l.instruction}\`: ${l.field ?? `${l.base}+0x${l.offset.toString(16)}`} (${l.baseType ?? ''}${l.layoutSource ? `; layout: ${l.layoutSource}` : ''})`,
      );
    for (const n of f.notes) o.push(`- Note: ${n}`);
    o.push('');
  }
  o.push('## 3. Objects');
  for (const ob of r.objects) {
    o.push(`### ${ob.type} ${ob.address}`);
    o.push(`- Type from: ${ob.typeSource}; printed by \`${ob.command}\``);
    for (const fl of ob.flags) {
      o.push(
        `- ${fl.field} = 0x${fl.value} = ${fl.set.join('|') || '0'}${fl.unknownBits.length ? ` + unknown bits ${fl.unknownBits.join(',')}` : ''}; clear: ${fl.clear.slice(0, 6).join(', ')}${fl.clear.length > 6 ? ', ...' : ''} (${fl.source})`,
      );
      if (fl.extra)
        o.push(
          `  - ${Object.entries(fl.extra)
            .map(([k, v]) => `${k}: ${v}`)
            .join('; ')}`,
        );
    }
    for (const rc of ob.refcounts) o.push(`- Reference count ${rc.path} = ${rc.value}`);
    for (const l of ob.lists) o.push(`- List ${l.path}: ${l.state}: ${l.note}`);
    if (ob.selfPointers.length) o.push(`- Points to itself: ${ob.selfPointers.join(', ')}`);
    for (const l of ob.links) o.push(`- Link: ${l.note} (${l.target})`);
    for (const n of ob.notes) o.push(`- Note: ${n}`);
    o.push('');
  }
  if (r.objectsSkipped?.length) {
    o.push('### Not examined (budget)');
    for (const x of r.objectsSkipped)
      o.push(`- ${x.label} = ${x.type} ${x.address}: ${x.reason}; \`${x.command}\``);
    o.push('');
  }
  o.push('## 4. Memory');
  for (const m of r.memory) o.push(`- ${m.type ?? ''} ${m.address} (\`${m.command}\`): ${m.explanation}`);
  for (const s of r.searches) {
    o.push(`### \`${s.command}\`${s.meaning ? `: ${s.meaning}` : ''}`);
    for (const h of s.hits) o.push(`- ${h.address}: ${h.class}: ${h.detail} (${h.confidence})`);
  }
  o.push('');
  o.push('## 5. Invariants');
  for (const i of r.invariants) {
    o.push(
      `- **${i.status.toUpperCase()}** ${i.id} (${i.object}): ${i.statement}. Observed: ${i.observed}. Expected: ${i.expected}.${i.atCrashSite ? '' : ' (stated for other code points)'}`,
    );
    o.push(`  - Why: ${i.why} [${i.sources.join('; ')}]`);
  }
  if (r.knowledge.length > 0) {
    o.push('### Code paths (knowledge pack)');
    for (const k of r.knowledge) o.push(`- ${k.text} [${k.versions}; ${k.sources.join('; ')}]`);
  }
  o.push('');
  o.push('## 6. Summary');
  o.push('### Known');
  for (const k of r.summary.known) o.push(`- ${k}`);
  o.push('### Violated');
  if (r.summary.violated.length === 0) o.push('- none found');
  for (const v of r.summary.violated) o.push(`- ${v}`);
  o.push('### Open questions');
  for (const q of r.summary.open)
    o.push(
      `- ${q.question}${q.commands.length ? ` -> ${q.commands.map((c) => `\`${c}\``).join(', ')}` : ''}`,
    );
  if (r.warnings.length) {
    o.push('### Warnings');
    for (const w of r.warnings) o.push(`- ${w}`);
  }
  o.push('');
  o.push('### Commands');
  for (const c of r.commands)
    o.push(`- \`${c.command}\`: ${c.status}${c.ms !== undefined ? ` (${c.ms} ms)` : ''}`);
  return `${o.join('\n')}\n`;
}

/** Escapes text for HTML element content and attribute values. */
export function esc(s: unknown): string {
  return String(s).replace(
    /[&<>"'`]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' })[c]!,
  );
}

/** HTML fragment (no scripts, no inline event handlers); every dynamic string is escaped. */
export function renderHtml(r: AnalysisReport): string {
  const o: string[] = [];
  const li = (s: string) => `<li>${s}</li>`;
  const p = r.panic;
  o.push('<article class="ktriage-analysis">');
  o.push(
    `<h1>ktriage analysis${p.exception ? `: ${esc(p.exception.function)}${p.exception.offset !== null ? `+${esc(p.exception.offset)}` : ''}` : ''}</h1>`,
  );
  o.push(
    `<p>Mode: ${esc(r.mode)}. Kernel: ${esc(r.kernel.release ?? 'unknown')}${r.kernel.source ? ` (from ${esc(r.kernel.source)})` : ''}.</p>`,
  );
  o.push('<section><h2>1. Panic summary</h2><ul>');
  if (p.message) o.push(li(`Panic: ${esc(p.message)}`));
  if (p.title) o.push(li(`Console report: ${esc(p.title)}`));
  if (p.exception)
    o.push(
      li(
        `Exception in <code>${esc(p.exception.function)}${p.exception.offset !== null ? `+${esc(p.exception.offset)}` : ''}</code>${p.exception.module ? ` [${esc(p.exception.module)}]` : ''}`,
      ),
    );
  if (p.task)
    o.push(
      li(
        `Task ${esc(p.task.command)} (pid ${esc(p.task.pid)})${p.cpu !== null ? ` on CPU ${esc(p.cpu)}` : ''}`,
      ),
    );
  o.push('</ul></section>');
  o.push('<section><h2>2. Registers and arguments per frame</h2>');
  for (const f of r.frames) {
    o.push(
      `<h3>${esc(f.level === null ? 'exception' : `#${f.level}`)} <code>${esc(f.function)}</code></h3><table><tr><th>register</th><th>value</th><th>confidence</th></tr>`,
    );
    for (const [k, v] of Object.entries(f.registers)) {
      if (!/^(RBX|RBP|R1[2-5]|X19|X2[0-8])$/.test(k)) continue;
      o.push(`<tr><td>${esc(k)}</td><td><code>${esc(val(v))}</code></td><td>${esc(v.confidence)}</td></tr>`);
    }
    o.push('</table><ul>');
    for (const a of f.arguments) {
      o.push(
        `<li>Argument ${esc(a.index)} ${esc(a.name ?? '')} ${a.type ? `(<code>${esc(a.type)}</code>)` : ''} in ${esc(a.register)}: <strong><code>${esc(val(a))}</code></strong> (${esc(a.confidence)})<ol>`,
      );
      for (const d of a.derivation) o.push(`<li>${esc(d.text)} <small>[${esc(d.source)}]</small></li>`);
      o.push('</ol></li>');
    }
    for (const l of f.loads)
      o.push(
        li(
          `Load <code>${esc(l.instruction)}</code>: ${esc(l.field ?? `${l.base}+0x${l.offset.toString(16)}`)}`,
        ),
      );
    o.push('</ul>');
  }
  o.push('</section><section><h2>3. Objects</h2>');
  for (const ob of r.objects) {
    o.push(`<h3><code>${esc(ob.type)} ${esc(ob.address)}</code></h3><ul>`);
    o.push(li(`Type from: ${esc(ob.typeSource)}`));
    for (const fl of ob.flags)
      o.push(
        li(
          `${esc(fl.field)} = 0x${esc(fl.value)} = <strong>${esc(fl.set.join('|') || '0')}</strong> <small>(${esc(fl.source)})</small>`,
        ),
      );
    for (const rc of ob.refcounts) o.push(li(`Reference count ${esc(rc.path)} = ${esc(rc.value)}`));
    for (const l of ob.lists) o.push(li(`List ${esc(l.path)}: ${esc(l.state)}: ${esc(l.note)}`));
    for (const l of ob.links) o.push(li(`Link: ${esc(l.note)}`));
    o.push('</ul>');
  }
  if (r.objectsSkipped?.length) {
    o.push('<h3>Not examined (budget)</h3><ul>');
    for (const x of r.objectsSkipped)
      o.push(
        li(
          `${esc(x.label)} = <code>${esc(x.type)} ${esc(x.address)}</code>: ${esc(x.reason)}; <code>${esc(x.command)}</code>`,
        ),
      );
    o.push('</ul>');
  }
  o.push('</section><section><h2>4. Memory</h2><ul>');
  for (const m of r.memory) o.push(li(`<code>${esc(m.address)}</code>: ${esc(m.explanation)}`));
  o.push('</ul>');
  for (const s of r.searches) {
    o.push(
      `<h3><code>${esc(s.command)}</code></h3><table><tr><th>address</th><th>class</th><th>detail</th><th>confidence</th></tr>`,
    );
    for (const h of s.hits)
      o.push(
        `<tr><td><code>${esc(h.address)}</code></td><td>${esc(h.class)}</td><td>${esc(h.detail)}</td><td>${esc(h.confidence)}</td></tr>`,
      );
    o.push('</table>');
  }
  o.push('</section><section><h2>5. Invariants</h2><ul>');
  for (const i of r.invariants)
    o.push(
      li(
        `<strong>${esc(i.status.toUpperCase())}</strong> ${esc(i.id)}: ${esc(i.statement)}. Observed: ${esc(i.observed)}. Expected: ${esc(i.expected)}.`,
      ),
    );
  if (r.knowledge.length > 0) {
    o.push('</ul><h3>Code paths (knowledge pack)</h3><ul>');
    for (const k of r.knowledge) o.push(li(`${esc(k.text)} <small>[${esc(k.versions)}]</small>`));
  }
  o.push('</ul></section><section><h2>6. Summary</h2><h3>Known</h3><ul>');
  for (const k of r.summary.known) o.push(li(esc(k)));
  o.push('</ul><h3>Violated</h3><ul>');
  for (const v of r.summary.violated) o.push(li(esc(v)));
  o.push('</ul><h3>Open questions</h3><ul>');
  for (const q of r.summary.open)
    o.push(li(`${esc(q.question)} ${q.commands.map((c) => `<code>${esc(c)}</code>`).join(' ')}`));
  o.push('</ul></section></article>');
  return `${o.join('\n')}\n`;
}
