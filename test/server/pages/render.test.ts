// Unit tests of the page renderers over hand-made view models: escaping of every log-derived
// string, safe links, the report annotations (guilty, unreliable, contexts, taint, Code: bytes),
// and Elixir links only for upstream releases.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { padDays } from '../../../src/server/pages/charts.ts';
import { elixirSourceUrl, upstreamTag } from '../../../src/server/pages/elixir.ts';
import { escapeHtml, html, link, safeUrl } from '../../../src/server/pages/html.ts';
import { decodeTaint } from '../../../src/server/pages/taint.ts';
import { renderAnalysis } from '../../../src/server/pages/views/analyses.ts';
import { renderBucket } from '../../../src/server/pages/views/bucket.ts';
import { parseBucketsQuery, renderBuckets, toBucketFilter } from '../../../src/server/pages/views/buckets.ts';
import { renderCrash } from '../../../src/server/pages/views/crash.ts';
import { renderLog, renderUpload } from '../../../src/server/pages/views/upload.ts';
import { analysis, bucket, bucketItem, crash, EVIL, frame, HOSTILE, log, report } from './fixtures.ts';

/** Fails if any hostile payload survived as markup. */
function expectInert(out: string): void {
  expect(out).not.toMatch(/<script>alert/i);
  expect(out).not.toMatch(/<img src=x/i);
  expect(out).not.toMatch(/<svg onload/i);
  expect(out).not.toMatch(/<iframe src=javascript/i);
  expect(out).not.toMatch(/href="\s*javascript:/i);
  expect(out).not.toMatch(/src="\s*javascript:/i);
  // The only <script> tags are our own, loaded from /static/.
  for (const m of out.matchAll(/<script\b[^>]*>/gi))
    expect(m[0]).toMatch(/^<script src="\/static\/[\w./-]+" defer>$/);
  // Every payload is shown, as text.
  expect(out).toContain(escapeHtml(HOSTILE[0]!));
  expect(out).toContain(escapeHtml(HOSTILE[1]!));
}

function evilReport() {
  return report({
    title: `BUG in ${EVIL}`,
    altTitles: [EVIL],
    guiltyFrame: EVIL,
    bugLocation: { file: EVIL, line: 3 },
    messages: [EVIL],
    frames: [frame(EVIL, { module: EVIL, file: EVIL, line: 1 }), frame('ok', { module: 'nfs' })],
    registers: { [EVIL]: EVIL },
    code: { bytes: [EVIL, '0f'], faultIndex: 0, raw: EVIL },
    modules: [EVIL],
    taint: EVIL,
    kernelRelease: EVIL,
    kernelBuild: EVIL,
    hardware: EVIL,
    comm: EVIL,
    context: EVIL,
  });
}

describe('html helper', () => {
  it('escapes every interpolation and keeps SafeHtml fragments', () => {
    const inner = html`<b>${'<i>'}</b>`;
    expect(html`<p title="${'"x'}">${inner}${['<', 1, null, false]}</p>`.value).toBe(
      '<p title="&quot;x"><b>&lt;i&gt;</b>&lt;1</p>',
    );
  });

  it('escapeHtml leaves no markup characters, for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const e = escapeHtml(s);
        expect(e).not.toMatch(/[<>"'`]/);
        const back = e.replace(
          /&(lt|gt|quot|#39|#96|amp);/g,
          (_m, n: string) => ({ lt: '<', gt: '>', quot: '"', '#39': "'", '#96': '`', amp: '&' })[n]!,
        );
        expect(back).toBe(s);
      }),
    );
  });

  it('lets only same-origin paths and http(s) URLs become links', () => {
    expect(safeUrl('/buckets/3?x=1')).toBe('/buckets/3?x=1');
    expect(safeUrl('https://elixir.bootlin.com/linux/v6.1/source/mm/slub.c#L3')).toMatch(/^https:\/\//);
    for (const bad of [
      'javascript:alert(1)',
      'JaVaScRiPt:alert(1)',
      ' javascript:alert(1)',
      'java\tscript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:msgbox',
      '//evil.example/x',
      '/\\evil.example',
      'file:///etc/passwd',
    ])
      expect(safeUrl(bad), bad).toBeNull();
    expect(link('javascript:alert(1)', 'click').value).toBe('click');
  });
});

describe('kernel facts', () => {
  it('decodes taint letters to the words of tainted-kernels.rst', () => {
    const d = decodeTaint('G        W  OE');
    expect(d.gplOnly).toBe(true);
    expect(d.flags.map((f) => f.letter)).toEqual(['W', 'O', 'E']);
    expect(d.flags[0]!.meaning).toBe('kernel issued warning');
    expect(d.flags.map((f) => f.bit)).toEqual([9, 12, 13]);
    const p = decodeTaint('PDLK');
    expect(p.gplOnly).toBe(false);
    expect(p.flags.map((f) => f.bit)).toEqual([0, 7, 14, 15]);
    expect(decodeTaint('GZ').unknown).toEqual(['Z']);
  });

  it('links to Elixir only for upstream release tags', () => {
    expect(upstreamTag('6.1.76')).toBe('v6.1.76');
    expect(upstreamTag('6.8.0-rc3')).toBe('v6.8-rc3');
    expect(upstreamTag('6.8-rc3')).toBe('v6.8-rc3');
    expect(upstreamTag('5.15.0')).toBe('v5.15');
    for (const r of [
      '6.1.0-18-amd64',
      '4.18.0-305.el8.x86_64',
      '5.10.0-rc6+',
      '6.10.0-rc1-next-20240531',
      '5.15.75-rc1',
      null,
    ])
      expect(upstreamTag(r), String(r)).toBeNull();
    expect(elixirSourceUrl('6.1.76', 'fs/nfs/pagelist.c', 382)).toBe(
      'https://elixir.bootlin.com/linux/v6.1.76/source/fs/nfs/pagelist.c#L382',
    );
    expect(elixirSourceUrl('6.1.76', '../../etc/passwd', 1)).toBeNull();
    expect(elixirSourceUrl('6.1.76', 'javascript:alert(1)', 1)).toBeNull();
  });
});

describe('charts', () => {
  it('pads per-day counts to a window ending today, at least 30 days, zeros filled', () => {
    const d = padDays([{ day: '2026-11-20', count: 2 }], '2026-11-25');
    expect(d.length).toBe(30);
    expect(d[0]!.day).toBe('2026-10-27');
    expect(d.at(-1)).toEqual({ day: '2026-11-25', count: 0 });
    expect(d.find((x) => x.day === '2026-11-20')!.count).toBe(2);
    expect(d.reduce((a, x) => a + x.count, 0)).toBe(2);
    const long = padDays(
      [
        { day: '2025-01-01', count: 1 },
        { day: '2026-11-25', count: 3 },
      ],
      '2026-11-25',
    );
    expect(long[0]!.day).toBe('2025-01-01');
    expect(long.length).toBe(694);
  });
});

describe('crash page', () => {
  it('marks the guilty frame, dims unreliable frames, shows contexts, registers, Code: and taint', () => {
    const out = renderCrash({ crash: crash(), log: log('x\nNFS: bad\nkernel BUG\nCall Trace:\ny\n') });
    expect(out).toMatch(/<tr class="guilty[^"]*">[\s\S]*?nfs_unlock_request[\s\S]*?guilty frame/);
    expect(out).toMatch(
      /<tr class="unreliable[^"]*">[\s\S]*?<span aria-hidden="true">\? <\/span>(<a [^>]*>)?irq_exit/,
    );
    expect(out).toContain('<span class="ctx-irq">IRQ</span>');
    expect(out).toContain('<span class="ctx-task">task</span>');
    expect(out).toContain('<div><dt>RBX</dt><dd><code>ffff9bf9f048da00</code></dd></div>');
    expect(out).toContain('<mark class="fault" title="faulting instruction starts here">0f</mark>');
    expect(out).toContain('kernel issued warning');
    expect(out).toContain('unsigned module was loaded');
    // Upstream release: frame and BUG location link to Elixir at that tag.
    expect(out).toContain('href="https://elixir.bootlin.com/linux/v6.1.76/source/fs/nfs/pagelist.c#L382"');
    expect(out).toContain('href="https://elixir.bootlin.com/linux/v6.1.76/A/ident/do_writepages"');
    // Report lines 2..4 highlighted, 1 and 5 not.
    expect(out).toMatch(/<span id="L2" class="ln hl">/);
    expect(out).toMatch(/<span id="L4" class="ln hl">/);
    expect(out).toMatch(/<span id="L1" class="ln">/);
    expect(out).toMatch(/<span id="L5" class="ln">/);
  });

  it('says when the guilty frame is not in the trace, and offers to hide unreliable frames', () => {
    const out = renderCrash({
      crash: crash({ report: report({ guiltyFrame: '__get_metapage' }) }),
      log: null,
    });
    expect(out).toContain('The guilty frame <code>__get_metapage</code> is not in the printed trace.');
    expect(out).not.toMatch(/<tr class="guilty/);
    expect(out).toMatch(
      /<input type="checkbox" class="hide-unreliable" id="hide-unreliable-\d+"> <label for="hide-unreliable-\d+">Hide 1 unreliable frame<\/label>/,
    );
  });

  it('has no Elixir links for a distribution kernel', () => {
    const out = renderCrash({
      crash: crash({ kernel: '6.1.0-18-amd64', report: report({ kernelRelease: '6.1.0-18-amd64' }) }),
      log: null,
    });
    expect(out).not.toContain('elixir.bootlin.com');
    expect(out).toContain('fs/nfs/pagelist.c:382');
  });

  it('shows a window of a long log around the report', () => {
    const lines = Array.from({ length: 10_000 }, (_, i) => `line ${i + 1}`);
    const out = renderCrash({
      crash: crash({ report: report({ startLine: 5000, endLine: 5010 }) }),
      log: log(lines.join('\n')),
    });
    expect(out).toContain('Showing lines 4960–5050 of 10000');
    expect(out).not.toContain('id="L4959"');
    expect(out).toContain('id="L4960"');
    expect(out).toContain('href="/crashes/7?log=all#L5000"');
    const whole = renderCrash({
      crash: crash({ report: report({ startLine: 5000, endLine: 5010 }) }),
      log: log(lines.join('\n')),
      wholeLog: true,
    });
    expect(whole).toContain('id="L1"');
    expect(whole).toContain('id="L10000"');
  });

  it('renders every log-derived string as text', () => {
    const r = evilReport();
    const out = renderCrash({
      crash: crash({ report: r, title: r.title, host: EVIL, kernel: EVIL, logSource: EVIL }),
      log: log(`${EVIL}\n${EVIL}\n${EVIL}\n${EVIL}\n`, { source: EVIL }),
    });
    expectInert(out);
  });
});

describe('bucket, buckets, upload, logs, analyses pages', () => {
  it('bucket page lists members with rule and similarity, hosts and kernels with counts', () => {
    const rep = crash();
    const b = bucket();
    const out = renderBucket({
      bucket: b,
      representative: rep,
      members: b.members,
      memberPage: 1,
      today: '2026-11-24',
    });
    expect(out).toContain('<h1>kernel BUG in nfs_unlock_request</h1>');
    expect(out).toContain('title="same title, similar stack (similarity 0.93)"');
    expect(out).toContain('title="founded the bucket"');
    expect(out).toMatch(/<a href="\/\?host=nfs-client-b">nfs-client-b<\/a><\/th><td class="num">1<\/td>/);
    expect(out).toMatch(/data-series="\[\[&quot;2026-10-26&quot;,0\],[^"]*\[&quot;2026-11-22&quot;,/);
    expect(out).toContain('guilty frame');
  });

  it('bucket page shows the top hosts of a fleet-sized bucket and links to all of them', () => {
    const hostCounts = Array.from({ length: 1000 }, (_, i) => ({
      name: `host-${i}`,
      count: i === 500 ? 50 : 1,
    }));
    const b = bucket({ hostCounts, count: 1049 });
    const top = renderBucket({ bucket: b, representative: crash(), members: b.members, memberPage: 1 });
    expect(top.match(/<a href="\/\?host=host-\d+">/g)?.length).toBe(25);
    // The busiest host comes first.
    expect(top.indexOf('>host-500<')).toBeLessThan(top.indexOf('>host-0<'));
    expect(top).toContain('Show all 1000</a> (975 more, they have 975 crashes)');
    const all = renderBucket({
      bucket: b,
      representative: crash(),
      members: b.members,
      memberPage: 1,
      allCounts: true,
    });
    expect(all.match(/<a href="\/\?host=host-\d+">/g)?.length).toBe(1000);
  });

  it('bucket and buckets pages render hostile titles, hosts and kernels as text', () => {
    const r = evilReport();
    const c = crash({ report: r, title: r.title, host: EVIL, kernel: EVIL });
    const b = bucket({
      title: r.title,
      hosts: [EVIL],
      kernels: [EVIL],
      signature: [EVIL],
      hostCounts: [{ name: EVIL, count: 1 }],
      kernelCounts: [{ name: EVIL, count: 1 }],
      members: [c],
      kind: EVIL,
    });
    expectInert(renderBucket({ bucket: b, representative: c, members: b.members, memberPage: 1 }));
    const q = parseBucketsQuery((k) => ({ q: EVIL, host: EVIL, kernel: EVIL, since: EVIL, sort: EVIL })[k]);
    expect(q.sort).toBe('lastSeen');
    expect(q.since).toBe('');
    const list = renderBuckets(
      { items: [bucketItem({ title: r.title, hosts: [EVIL], kernels: [EVIL], kind: EVIL })], total: 1 },
      q,
      Date.parse('2026-11-25T00:00:00Z'),
      [EVIL],
    );
    expectInert(list);
  });

  it('buckets query: explicit day range overrides the preset; bad days are dropped', () => {
    const now = Date.parse('2026-11-25T12:00:00Z');
    const q = parseBucketsQuery((k) => ({ since: '7d', from: '2026-11-01', to: '2026-11-10' })[k]);
    const f = toBucketFilter(q, now);
    expect(f.since).toBe('2026-11-01T00:00:00.000Z');
    expect(f.until).toBe('2026-11-10T23:59:59.999Z');
    const bad = parseBucketsQuery((k) => ({ since: '7d', from: '2026-13-45', to: '"><x' })[k]);
    expect(bad.from).toBe('');
    expect(bad.to).toBe('');
    expect(toBucketFilter(bad, now).since).toBe('2026-11-18T12:00:00.000Z');
    const out = renderBuckets({ items: [bucketItem()], total: 1 }, q, now);
    expect(out).toContain('<input id="f-from" name="from" type="date" value="2026-11-01">');
    expect(out).toMatch(/href="\/\?since=7d&amp;from=2026-11-01&amp;to=2026-11-10&amp;sort=title/);
  });

  it('buckets page sorts by column links and marks the sorted column', () => {
    const q = parseBucketsQuery((k) => ({ sort: 'count', order: 'desc', host: 'web-01' })[k]);
    const out = renderBuckets({ items: [bucketItem()], total: 1 }, q, Date.parse('2026-11-25T00:00:00Z'));
    expect(out).toMatch(
      /<th scope="col" class="num" aria-sort="descending"><a href="\/\?host=web-01&amp;sort=count&amp;order=asc">/,
    );
    expect(out).toContain('1 bucket matches the filters.');
    expect(out).toMatch(/<svg class="spark"[^>]*role="img" aria-label="\d+ crashes in the last 28 days/);
  });

  it('log page shows the first lines of a huge log', () => {
    const text = Array.from({ length: 6000 }, (_, i) => `line ${i + 1}`).join('\n');
    const out = renderLog(log(text));
    expect(out).toContain('line 5000\n</pre>'.replace('\n', ''));
    expect(out).not.toContain('line 5001');
    expect(out).toContain('The first 5000 lines');
    expect(renderLog(log('a\nb\n'))).not.toContain('The first');
  });

  it('upload and log pages echo input as text', () => {
    expectInert(renderUpload({ host: EVIL, kernel: EVIL, log: EVIL }, EVIL));
    expectInert(renderLog(log(EVIL, { source: EVIL, host: EVIL, warnings: [EVIL], noCrash: true })));
  });

  it('analysis HTML goes into a sandboxed iframe, Markdown into escaped text', () => {
    const out = renderAnalysis(
      analysis({ title: EVIL, html: `<p>${EVIL}</p>`, markdown: EVIL, json: { x: EVIL }, meta: { m: EVIL } }),
    );
    expect(out).toMatch(
      /<iframe class="analysis" title="[^"]*" sandbox="" referrerpolicy="no-referrer" srcdoc="&lt;p&gt;/,
    );
    expectInert(out);
  });
});
