// The dashboard in a real browser: Debian's chromium driven by playwright-core against the real
// server on 127.0.0.1 (random port) over a temporary SQLite database loaded with examples/ (the
// `--demo` path). Opens every page, clicks buckets -> bucket -> crash, uploads logs (pasted and as a
// file), filters, sorts, searches, loads hostile logs and analyses, and checks that no dialog fires,
// no injected element exists, the text shows literally and no page logs a JavaScript error.
// Screenshots go to test-output/screenshots/ (gitignored) for people to look at.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseLog } from '../../../src/report/index.ts';
import { type RunningServer, startServer } from '../../../src/server/index.ts';
import { loadDemo, readManifest } from '../../../src/server/pages/demo.ts';
import { openStore } from '../../../src/store/index.ts';

// Code passed to page.evaluate runs in the browser; tsconfig has no DOM lib, so type it loosely here.
// biome-ignore lint/suspicious/noExplicitAny: browser globals inside page.evaluate.
declare const document: any;

const repoRoot = resolve(import.meta.dirname, '../../..');
const shots = join(repoRoot, 'test-output', 'screenshots');
const CHROMIUM = process.env.KTRIAGE_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const requireAll = process.env.KTRIAGE_REQUIRE_ALL === '1';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Payloads that must show as text wherever they appear. */
const XSS_HOST = '<script>alert("host")</script>';
const XSS_KERNEL = '"><img src=x onerror=alert("kernel")>';
const XSS_LINK = 'javascript:alert("link")';
const XSS_LINE = '</pre><svg onload=alert("line")><a href="javascript:alert(1)">x</a>';

describe('chromium for the dashboard tests', () => {
  it.runIf(requireAll)('is installed (KTRIAGE_REQUIRE_ALL=1)', () => {
    expect(
      haveChromium,
      `chromium is missing at ${CHROMIUM}: run .ci/setup.d/50-chromium.sh (apt-get install chromium) or set KTRIAGE_CHROMIUM`,
    ).toBe(true);
  });
});

describe.skipIf(!haveChromium && !requireAll)('dashboard in chromium', () => {
  let tmp: string;
  let store: Awaited<ReturnType<typeof openStore>>;
  let server: RunningServer | undefined;
  let base: string;
  let ctx: BrowserContext;
  let page: Page;
  const consoleErrors: string[] = [];
  const dialogs: string[] = [];

  function watch(p: Page): void {
    p.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(`${p.url()}: ${m.text()}`);
    });
    p.on('pageerror', (e) => consoleErrors.push(`${p.url()}: ${e.message}`));
    p.on('dialog', (d) => {
      dialogs.push(`${p.url()}: ${d.type()} ${d.message()}`);
      void d.dismiss();
    });
  }

  /** Removes console errors the test caused on purpose (and checks they happened). */
  function expectConsoleErrors(re: RegExp): void {
    const hits = consoleErrors.filter((e) => re.test(e));
    expect(hits.length, `expected a console error matching ${re}`).toBeGreaterThan(0);
    consoleErrors.splice(0, consoleErrors.length, ...consoleErrors.filter((e) => !re.test(e)));
  }

  /** The biggest bucket with 2+ crashes whose representative report has a call trace. */
  async function bucketWithTrace(): Promise<{ id: number; title: string }> {
    for (const b of (await store.listBuckets({ sort: 'count', order: 'desc', limit: 50 })).items) {
      const full = await store.getBucket(b.id);
      const rep = full && (await store.getCrash(full.representativeCrashId));
      if (b.count > 1 && rep && rep.report.frames.length > 0) return b;
    }
    throw new Error('no demo bucket with 2+ crashes and a call trace');
  }

  async function shot(name: string, p: Page = page): Promise<void> {
    await expectAccessible(p);
    await p.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  }

  /** Structural accessibility: one h1, no skipped heading levels, labelled controls and images, scoped headers. */
  async function expectAccessible(p: Page = page): Promise<void> {
    const problems = await p.evaluate(() => {
      const out: string[] = [];
      const h1 = document.querySelectorAll('h1').length;
      if (h1 !== 1) out.push(`${h1} h1 elements`);
      let prev = 0;
      for (const h of document.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
        const level = Number(h.tagName[1]);
        if (prev && level > prev + 1) out.push(`heading ${h.tagName} "${h.textContent}" skips a level`);
        prev = level;
      }
      for (const c of document.querySelectorAll('input:not([type=hidden]), select, textarea'))
        if (!(c.labels?.length > 0) && !c.getAttribute('aria-label'))
          out.push(`unlabelled ${c.tagName} ${c.id}`);
      for (const i of document.querySelectorAll('img'))
        if (!i.hasAttribute('alt')) out.push('img without alt');
      for (const svg of document.querySelectorAll('svg[role=img]'))
        if (!svg.getAttribute('aria-label')) out.push('svg image without a label');
      for (const th of document.querySelectorAll('thead th'))
        if (!th.getAttribute('scope')) out.push('th without scope');
      for (const a of document.querySelectorAll('a[href]'))
        if (
          !(a.textContent ?? '').trim() &&
          !a.getAttribute('aria-label') &&
          a.getAttribute('aria-hidden') !== 'true'
        )
          out.push(`empty link ${a.getAttribute('href')}`);
      if (!document.documentElement.lang) out.push('no lang');
      if (!document.querySelector('main')) out.push('no main landmark');
      return out;
    });
    expect(problems, `accessibility problems on ${p.url()}`).toEqual([]);
  }

  /** Nothing injected: no dialog, no element made from a payload. */
  async function expectNoInjection(p: Page = page): Promise<void> {
    const injected = await p.evaluate(() => ({
      inlineScripts: document.querySelectorAll('script:not([src])').length,
      foreignScripts: [...document.querySelectorAll('script[src]')].filter(
        (s) => !(s.getAttribute('src') ?? '').startsWith('/static/'),
      ).length,
      imgs: document.querySelectorAll('img[src="x"], img[onerror]').length,
      svgOnload: document.querySelectorAll('svg[onload]').length,
      jsLinks: [...document.querySelectorAll('a[href], iframe[src], form[action]')].filter((e) =>
        /^\s*javascript:/i.test(
          e.getAttribute('href') ?? e.getAttribute('src') ?? e.getAttribute('action') ?? '',
        ),
      ).length,
    }));
    expect(injected).toEqual({ inlineScripts: 0, foreignScripts: 0, imgs: 0, svgOnload: 0, jsLinks: 0 });
    expect(dialogs).toEqual([]);
  }

  beforeAll(async () => {
    if (!haveChromium)
      throw new Error(
        `KTRIAGE_REQUIRE_ALL=1 but chromium is missing at ${CHROMIUM}: run .ci/setup.d/50-chromium.sh (apt-get install chromium) or set KTRIAGE_CHROMIUM`,
      );
    mkdirSync(shots, { recursive: true });
    tmp = mkdtempSync(join(tmpdir(), 'ktriage-pages-'));
    store = await openStore(join(tmp, 'ktriage.db'));
    const demo = await loadDemo(store);
    expect(demo.loaded).toBe(true);
    // The real `serve` path (API, pages, in-process jobs), on a random loopback port.
    server = await startServer({ store, port: 0, hostname: '127.0.0.1', auth: {} });
    base = server.url;
    ctx = await chromium.launchPersistentContext(join(tmp, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
    });
    page = ctx.pages()[0] ?? (await ctx.newPage());
    watch(page);
  });

  afterAll(async () => {
    await ctx?.close();
    await server?.close();
    await store?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  afterEach(() => {
    expect(consoleErrors, 'JavaScript console errors').toEqual([]);
    expect(dialogs, 'dialogs fired').toEqual([]);
  });

  it('buckets page lists every demo bucket with sparklines', async () => {
    const stats = await store.stats();
    const manifest = readManifest();
    const occurrences = Object.values(manifest.files).reduce((a, f) => a + f.occurrences.length, 0);
    expect(stats.logs).toBe(occurrences);
    await page.goto(`${base}/`);
    await expect(page.title()).resolves.toBe('Buckets · ktriage');
    const rows = page.locator('#buckets-table tbody tr');
    expect(await rows.count()).toBe(Math.min(stats.buckets, 50));
    await expect(page.locator('#buckets-summary').textContent()).resolves.toContain(
      `${stats.buckets} bucket`,
    );
    expect(await page.locator('#buckets-table svg.spark').count()).toBe(await rows.count());
    // Landmarks and headers for assistive technology.
    expect(await page.locator('header[role=banner], nav[aria-label=Main], main#main, footer').count()).toBe(
      4,
    );
    expect(await page.locator('#buckets-table thead th[scope=col]').count()).toBe(7);
    await shot('01-buckets');
    await expectNoInjection();
  });

  it('clicks through buckets -> bucket -> crash', async () => {
    const target = await bucketWithTrace();
    const title = target.title;
    await page.goto(`${base}/?sort=count&order=desc`);
    await page.locator(`#buckets-table td.title a[href="/buckets/${target.id}"]`).click();
    await page.waitForURL(/\/buckets\/\d+$/);
    await expect(page.locator('h1').textContent()).resolves.toBe(title);
    // uPlot replaced the SVG chart when scripts ran.
    await page.locator('figure.daychart.live .uplot').waitFor();
    expect(await page.locator('table.members tbody tr').count()).toBeGreaterThan(1);
    expect(await page.locator('table.trace tbody tr').count()).toBeGreaterThan(0);
    await shot('02-bucket');
    await page.locator('table.members tbody tr a').first().click();
    await page.waitForURL(/\/crashes\/\d+$/);
    expect(await page.locator('pre.log .ln.hl').count()).toBeGreaterThan(0);
    await expect(page.locator('nav.crumbs').textContent()).resolves.toMatch(/bucket \d+/);
    await shot('03-crash');
    await expectNoInjection();
  });

  it('the seed: both machines in one bucket, trace annotated, found by searching a frame', async () => {
    await page.goto(`${base}/`);
    await page.fill('#f-q', 'nfs_end_page_writeback');
    await page.click('form.filters button[type=submit]');
    await page.waitForURL(/q=nfs_end_page_writeback/);
    const rows = page.locator('#buckets-table tbody tr');
    const expected = await store.listBuckets({ search: 'nfs_end_page_writeback' });
    expect(await rows.count()).toBe(expected.total);
    const seed = rows.filter({ hasText: 'nfs-client-a' });
    expect(await seed.count()).toBe(1);
    await seed.locator('td.title a').click();
    await page.waitForURL(/\/buckets\/\d+$/);
    const hosts = await page.locator('section[aria-labelledby=h-hosts] tbody th').allTextContents();
    expect(hosts.sort()).toEqual(['nfs-client-a', 'nfs-client-b']);
    const machineA = parseLog(readFileSync(join(repoRoot, 'examples/seed-machine-a.log'), 'utf8'))[0]!;
    await expect(page.locator('h1').textContent()).resolves.toBe(machineA.title);
    if (machineA.guiltyFrame)
      await expect(page.locator('table.trace tr.guilty td.fn').textContent()).resolves.toContain(
        machineA.guiltyFrame,
      );
    expect(await page.locator('table.trace .mod', { hasText: 'nfs' }).count()).toBeGreaterThan(0);
    await shot('04-seed-bucket');
  });

  it('links file:line of an upstream kernel to Elixir, and nothing for distribution kernels', async () => {
    const text = readFileSync(join(repoRoot, 'examples/syz-warning-symbolized.log'), 'utf8');
    const r = parseLog(text)[0]!;
    const located = r.frames.find((f) => f.file && f.line)!;
    const found = await store.listBuckets({ search: r.guiltyFrame ?? r.title });
    const b = found.items.find((x) => x.title === r.title)!;
    await page.goto(`${base}/buckets/${b.id}`);
    await page.locator('nav.crumbs').waitFor();
    const members = page.locator('table.members tbody a');
    await members.first().click();
    await page.waitForURL(/\/crashes\/\d+$/);
    const href = `https://elixir.bootlin.com/linux/v${r.kernelRelease}/source/${located.file}#L${located.line}`;
    const a = page.locator(`table.trace a[href="${href}"]`).first();
    expect(await a.textContent()).toBe(`${located.file}:${located.line}`);
    expect(await a.getAttribute('rel')).toContain('noopener');
    await shot('04b-elixir-links');
    // The seed's kernel is a distribution build: no Elixir links at all.
    await page.goto(`${base}/?host=nfs-client-a`);
    await page.locator('#buckets-table td.title a').first().click();
    await page.waitForURL(/\/buckets\/\d+$/);
    expect(await page.locator('a[href*="elixir.bootlin.com"]').count()).toBe(0);
  });

  it('filters by host and kernel, sorts by count, filters rows on the page', async () => {
    await page.goto(`${base}/`);
    await page.fill('#f-host', 'syz-ci-1');
    await page.click('form.filters button[type=submit]');
    await page.waitForURL(/host=syz-ci-1/);
    const byHost = await store.listBuckets({ host: 'syz-ci-1' });
    expect(byHost.total).toBeGreaterThan(0);
    const rows = page.locator('#buckets-table tbody tr');
    expect(await rows.count()).toBe(Math.min(byHost.total, 50));
    for (const t of await rows
      .locator('td:nth-child(3) span[title]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('title'))))
      expect(t).toContain('syz-ci-1');
    await shot('05-filter-host');

    await page.goto(`${base}/?kernel=${encodeURIComponent('5.*')}`);
    const byKernel = await store.listBuckets({ kernel: '5.*' });
    expect(await page.locator('#buckets-table tbody tr').count()).toBe(Math.min(byKernel.total, 50));

    await page.goto(`${base}/?since=7d`);
    const recent = await store.listBuckets({ since: new Date(Date.now() - 7 * 86_400_000) });
    expect(await page.locator('#buckets-table tbody tr').count()).toBe(Math.min(recent.total, 50));

    // An explicit day range, typed into the date inputs.
    const day = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString().slice(0, 10);
    await page.goto(`${base}/`);
    await page.fill('#f-from', day(20));
    await page.fill('#f-to', day(10));
    await page.click('form.filters button[type=submit]');
    await page.waitForURL(/from=/);
    const ranged = await store.listBuckets({
      since: `${day(20)}T00:00:00.000Z`,
      until: `${day(10)}T23:59:59.999Z`,
    });
    expect(ranged.total).toBeGreaterThan(0);
    expect(await page.locator('#buckets-table tbody tr').count()).toBe(Math.min(ranged.total, 50));

    await page.goto(`${base}/`);
    await page.locator('#buckets-table thead th a', { hasText: 'Count' }).click();
    await page.waitForURL(/sort=count/);
    const counts = (await page.locator('#buckets-table tbody td.num').allTextContents()).map(Number);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
    await expect(page.locator('th[aria-sort]').textContent()).resolves.toContain('Count');

    // Client-side filtering of the visible rows (JavaScript).
    const total = await page.locator('#buckets-table tbody tr').count();
    await page.fill('#quick', 'KASAN');
    const visible = await page.locator('#buckets-table tbody tr:not([hidden])').count();
    expect(visible).toBeGreaterThan(0);
    expect(visible).toBeLessThan(total);
    for (const t of await page.locator('#buckets-table tbody tr:not([hidden]) td.title').allTextContents())
      expect(t.toLowerCase()).toContain('kasan');
    await shot('06-quick-filter');
  });

  it('uploads a pasted log and a file, landing on the crash page', async () => {
    const text = readFileSync(join(repoRoot, '../shared/corpora/squad/kfence.log'), 'utf8');
    const expected = parseLog(text)[0]!;
    await page.goto(`${base}/upload`);
    await shot('07-upload');
    await page.fill('#u-host', 'upload-test-1');
    await page.fill('#u-kernel', '6.1.76');
    await page.fill('#u-log', text);
    await page.click('form.upload button[type=submit]');
    await page.waitForURL(/\/crashes\/\d+$/);
    await expect(page.locator('h1').textContent()).resolves.toBe(expected.title);
    await expect(page.locator('dl.facts').first().textContent()).resolves.toContain('upload-test-1');
    await shot('08-uploaded-crash');

    const file = readFileSync(
      join(repoRoot, '../shared/corpora/clearlinux-telemetrics/oops_test_files/kernel_null_pointer.txt'),
    );
    const expectedFile = parseLog(file.toString('utf8'))[0]!;
    await page.goto(`${base}/upload`);
    await page.fill('#u-host', 'upload-test-2');
    await page.setInputFiles('#u-file', { name: 'oops.txt', mimeType: 'text/plain', buffer: file });
    await page.click('form.upload button[type=submit]');
    await page.waitForURL(/\/crashes\/\d+$/);
    await expect(page.locator('h1').textContent()).resolves.toBe(expectedFile.title);

    // A log without any crash is kept, and its page says so.
    await page.goto(`${base}/upload`);
    await page.fill('#u-host', 'upload-test-3');
    await page.fill('#u-log', '[    0.000000] Linux version 6.1.0\n[    1.000000] systemd[1]: started\n');
    await page.click('form.upload button[type=submit]');
    await page.waitForURL(/\/logs\/\d+$/);
    await expect(page.locator('[role=status]').textContent()).resolves.toContain('No crash report was found');
    await shot('08b-log-without-crash');

    // An empty form is refused with a message, not stored.
    const before = (await store.stats()).logs;
    await page.goto(`${base}/upload`);
    await page.click('form.upload button[type=submit]');
    await expect(page.locator('.error[role=alert]').textContent()).resolves.toContain('empty');
    expect((await store.stats()).logs).toBe(before);
    expectConsoleErrors(/status of 400/);
  });

  it('renders hostile logs, hosts and kernels as text everywhere', async () => {
    // A real report whose message line, host and kernel carry payloads.
    const seed = readFileSync(join(repoRoot, 'examples/seed-machine-b.log'), 'utf8');
    const text = `${XSS_LINE}\n${seed.replace('NFS: Invalid unlock attempted', `NFS: ${XSS_HOST} ${XSS_LINK}`)}`;
    await page.goto(`${base}/upload`);
    await page.fill('#u-host', XSS_HOST);
    await page.fill('#u-kernel', XSS_KERNEL);
    await page.fill('#u-log', text);
    await page.click('form.upload button[type=submit]');
    await page.waitForURL(/\/crashes\/\d+$/);
    await expectNoInjection();
    const body = (await page.locator('main').textContent()) ?? '';
    for (const s of [XSS_HOST, XSS_KERNEL, XSS_LINE, XSS_LINK]) expect(body).toContain(s);
    await shot('09-xss-crash');

    await page.locator('nav.crumbs a', { hasText: /bucket/ }).click();
    await page.waitForURL(/\/buckets\/\d+$/);
    await expectNoInjection();
    const bucketText = (await page.locator('main').textContent()) ?? '';
    expect(bucketText).toContain(XSS_HOST);
    expect(bucketText).toContain(XSS_KERNEL);
    // The host link filters by the host, as a query parameter, not as markup or a scheme.
    const hostHref = await page
      .locator('section[aria-labelledby=h-hosts] a', { hasText: XSS_HOST })
      .getAttribute('href');
    expect(hostHref).toMatch(/^\/\?host=/);
    await page.locator('section[aria-labelledby=h-hosts] a', { hasText: XSS_HOST }).click();
    await page.waitForURL(/host=/);
    await expectNoInjection();
    expect(await page.locator('#f-host').inputValue()).toBe(XSS_HOST);
    expect(await page.locator('#buckets-table tbody tr').count()).toBe(1);
    await shot('10-xss-buckets');

    // A hostile search string is echoed into the form as a value only.
    await page.goto(`${base}/?q=${encodeURIComponent(XSS_KERNEL)}`);
    await expectNoInjection();
    expect(await page.locator('#f-q').inputValue()).toBe(XSS_KERNEL);
  });

  it('analyses: stored HTML is sandboxed, Markdown is text', async () => {
    const crashes = await store.listCrashes({ limit: 1 });
    const id = await store.addAnalysis({
      kind: 'vmcore',
      title: `triage ${XSS_HOST}`,
      crashId: crashes[0]!.id,
      html: `<h1>Triage</h1><p>req = ffff9bf9f048da00</p><script>alert("analysis")</script><img src=x onerror=alert("img")>`,
      markdown: `# Triage\n\n${XSS_LINE}\n\n[click](${XSS_LINK})`,
      json: { req: 'ffff9bf9f048da00', note: XSS_KERNEL },
    });
    await page.goto(`${base}/analyses`);
    await expectNoInjection();
    await expect(page.locator('table.analyses').textContent()).resolves.toContain(XSS_HOST);
    await shot('11-analyses');
    await page.goto(`${base}/analyses/${id}`);
    await expectNoInjection();
    const frame = page.locator('iframe.analysis');
    expect(await frame.getAttribute('sandbox')).toBe('');
    // The stored HTML renders (as HTML) inside the sandbox; its script never ran (no dialog).
    await expect(page.frameLocator('iframe.analysis').locator('h1').textContent()).resolves.toBe('Triage');
    await expect(page.locator('pre.md').textContent()).resolves.toContain(XSS_LINE);
    // Chromium reports the analysis's <script> as blocked by the sandbox: proof it did not run.
    expectConsoleErrors(/Blocked script execution in 'about:srcdoc'.*sandboxed/);
    await shot('12-analysis');
    await page.goto(`${base}/analyses?kind=fixes`);
    await expect(page.locator('p.empty').textContent()).resolves.toContain('fixes');
  });

  it('reads without JavaScript: every page and the upload form', async () => {
    const noJs = await chromium.launchPersistentContext(join(tmp, 'profile-nojs'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      javaScriptEnabled: false,
      viewport: { width: 1280, height: 900 },
    });
    try {
      const p = noJs.pages()[0] ?? (await noJs.newPage());
      watch(p);
      const target = await bucketWithTrace();
      await p.goto(`${base}/?sort=count`);
      expect(await p.locator('.quickfilter').isHidden()).toBe(true);
      await p.locator(`#buckets-table td.title a[href="/buckets/${target.id}"]`).click();
      await p.waitForURL(/\/buckets\/\d+$/);
      // The SVG chart stays, labelled for screen readers.
      expect(await p.locator('figure.daychart svg[role=img]').getAttribute('aria-label')).toMatch(
        /crashes from/,
      );
      await shot('13-bucket-nojs', p);
      await p.locator('table.members tbody a').first().click();
      await p.waitForURL(/\/crashes\/\d+$/);
      expect(await p.locator('table.trace tbody tr').count()).toBeGreaterThan(0);
      await p.goto(`${base}/upload`);
      await p.fill('#u-host', 'nojs-host');
      await p.fill('#u-log', readFileSync(join(repoRoot, 'examples/lkp-null-deref.log'), 'utf8'));
      await p.click('form.upload button[type=submit]');
      await p.waitForURL(/\/crashes\/\d+$/);
      await p.goto(`${base}/crashes/999999999`);
      await expect(p.locator('h1').textContent()).resolves.toBe('Not found');
      // Keyboard: the first Tab lands on the skip link, which moves focus to main.
      await p.goto(`${base}/`);
      await p.keyboard.press('Tab');
      await expect(p.evaluate(() => document.activeElement?.textContent)).resolves.toBe('Skip to content');
    } finally {
      await noJs.close();
    }
    expectConsoleErrors(/status of 404/);
  });
});
