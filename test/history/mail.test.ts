// Mailing-list archives in public-inbox format (each commit one email in the file `m`): patches,
// series, versions, Fixes/stable trailers and touched functions from the mailed diff; and mailed
// patches as fix candidates next to a git index.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexRepo } from '../../src/history/indexer.ts';
import { indexMailArchive, parseEmail } from '../../src/history/mail.ts';
import { parsePatchSubject } from '../../src/history/message.ts';
import { findFixes, HistoryIndex } from '../../src/history/query.ts';
import { hasGit, Repo, removeDir, tempDir } from './gitfixture.ts';
import { buildScenario, type Scenario } from './scenario.ts';

const gitOk = hasGit();
if (!gitOk && process.env.KTRIAGE_REQUIRE_ALL === '1') throw new Error('history tests need git on PATH');

function email(o: { id: string; subject: string; body: string; replyTo?: string; extra?: string }): string {
  return [
    'From: Dev One <dev@example.org>',
    `Subject: ${o.subject}`,
    'Date: Mon, 1 Feb 2021 10:00:00 +0000',
    `Message-ID: <${o.id}>`,
    ...(o.replyTo ? [`In-Reply-To: <${o.replyTo}>`] : []),
    ...(o.extra ? [o.extra] : []),
    '',
    o.body,
  ].join('\n');
}

// A patch in `git format-patch` form with 3 lines of context: it adds foo_check() after
// foo_free() (the hunk header names foo_free) and changes foo_release().
const patchBody = (fixes: string) => `The free path can run twice.

${fixes}
Cc: stable@vger.kernel.org # 2.0+
Signed-off-by: Dev One <dev@example.org>
---
 fs/foo_core.c | 9 ++++++++-
 1 file changed, 8 insertions(+), 1 deletion(-)

diff --git a/fs/foo_core.c b/fs/foo_core.c
index 1111111..2222222 100644
--- a/fs/foo_core.c
+++ b/fs/foo_core.c
@@ -10,6 +10,12 @@ void foo_free(struct foo *f)
 	}
 }
 
+static bool foo_check(struct foo *f)
+{
+	return refcount_read(&f->ref) > 0;
+}
+
 static int foo_lock(struct foo *f)
 {
 	int err = -EBUSY;
@@ -30,6 +36,7 @@ static void foo_unlock(struct foo *f)
 int foo_release(struct foo *f)
 {
 	foo_lock(f);
-	foo_free(f);
+	if (foo_check(f))
+		foo_free(f);
 	return 0;
 }
-- 
2.39.5
`;

describe.skipIf(!gitOk)('public-inbox archive', () => {
  let dir: string;
  let s: Scenario;
  let mailIdx: HistoryIndex;
  let gitIdx: HistoryIndex;
  beforeAll(async () => {
    dir = tempDir('mail');
    s = buildScenario(join(dir, 'work'));
    // Mails are dated after the scenario's commits (public-inbox commits carry the mail's date).
    const inbox = Repo.init(join(dir, 'inbox'), 'master').at(1_700_000_000);
    inbox.commit('cover', {
      m: email({ id: 'cover@x', subject: '[PATCH v2 0/2] foo: free path fixes', body: 'Two fixes.' }),
    });
    inbox.commit('p1', {
      m: email({
        id: 'p1@x',
        replyTo: 'cover@x',
        subject: '[PATCH v2 1/2] foo: check the reference before freeing',
        body: patchBody(`Fixes: ${s.c.c3.slice(0, 12)} ("foo: rework foo_free refcounting")`),
      }),
    });
    inbox.commit('reply', {
      m: email({
        id: 'r1@x',
        replyTo: 'p1@x',
        subject: 'Re: [PATCH v2 1/2] foo: check the reference before freeing',
        body: '> +static bool foo_check(struct foo *f)\nLooks good.',
      }),
    });
    // The patch that became c4, as mailed (quoted-printable): matched to the commit by subject.
    inbox.commit('p-merged', {
      m: email({
        id: 'm4@x',
        subject: '[PATCH] foo: fix use-after-free in foo_free',
        extra: 'Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable',
        body: 'Fixes: abc=\n123456789 ("x")\n---\ndiff --git a/fs/foo.c b/fs/foo.c\n--- a/fs/foo.c\n+++ b/fs/foo.c\n@@ -1,1 +1,1 @@ void foo_free(struct foo *f)\n-\tkfree(f);\n+\tkfree(f); /* =C3=A9 */\n',
      }),
    });
    await indexMailArchive(inbox.dir, { index: join(dir, 'mail.sqlite') });
    await indexRepo(s.repo.dir, { index: join(dir, 'git.sqlite') });
    mailIdx = HistoryIndex.open(join(dir, 'mail.sqlite'));
    gitIdx = HistoryIndex.open(join(dir, 'git.sqlite'));
  });
  afterAll(() => {
    mailIdx?.close();
    gitIdx?.close();
    if (dir) removeDir(dir);
  });

  it('parses patch subjects', () => {
    expect(parsePatchSubject('Re: [PATCH net-next v3 2/7] nfs: fix foo')).toEqual({
      clean: 'nfs: fix foo',
      isPatch: true,
      isReply: true,
      version: 3,
      part: 2,
      total: 7,
      tags: ['net-next'],
    });
    expect(parsePatchSubject('[RFC PATCH] x').tags).toEqual(['RFC']);
  });

  it('decodes encoded headers and quoted-printable bodies', () => {
    const m = parseEmail(
      'Subject: =?UTF-8?Q?caf=C3=A9?= =?UTF-8?B?IGJhcg==?=\nContent-Transfer-Encoding: quoted-printable\n\na=3Db=\nc\n',
    );
    expect(m.subject).toBe('café bar');
    expect(m.body).toBe('a=bc\n');
  });

  it('records series, trailers and the functions of the mailed diff', () => {
    const rows = mailIdx.db
      .prepare(
        'SELECT msgid, is_patch, is_reply, version, part, total, series, stable, stable_hint FROM mails ORDER BY time',
      )
      .all();
    expect(rows).toEqual([
      {
        msgid: 'cover@x',
        is_patch: 1,
        is_reply: 0,
        version: 2,
        part: 0,
        total: 2,
        series: 'cover@x',
        stable: 0,
        stable_hint: null,
      },
      {
        msgid: 'p1@x',
        is_patch: 1,
        is_reply: 0,
        version: 2,
        part: 1,
        total: 2,
        series: 'cover@x',
        stable: 1,
        stable_hint: '2.0+',
      },
      {
        msgid: 'r1@x',
        is_patch: 0,
        is_reply: 1,
        version: 2,
        part: 1,
        total: 2,
        series: null,
        stable: 0,
        stable_hint: null,
      },
      {
        msgid: 'm4@x',
        is_patch: 1,
        is_reply: 0,
        version: 1,
        part: null,
        total: null,
        series: 'm4@x',
        stable: 0,
        stable_hint: null,
      },
    ]);
    const funcs = mailIdx.db
      .prepare(
        "SELECT func, flags FROM mail_funcs f JOIN mails m ON m.id = f.mail_id WHERE m.msgid = 'p1@x' ORDER BY func",
      )
      .all();
    // foo_check is new (the header said foo_free); foo_release's body changed; foo_free untouched.
    expect(funcs).toEqual([
      { func: 'foo_check', flags: 3 },
      { func: 'foo_release', flags: 1 },
    ]);
    expect(
      mailIdx.db
        .prepare("SELECT ref FROM mail_fixes f JOIN mails m ON m.id = f.mail_id WHERE m.msgid = 'm4@x'")
        .pluck()
        .all(),
    ).toEqual(['abc123456789']);
  });

  it('offers unmerged mailed patches as candidates and ties merged ones to their commit', () => {
    const r = findFixes([gitIdx, mailIdx], {
      base: 'v2.0',
      funcs: [
        { name: 'foo_free', depth: 0 },
        { name: 'foo_release', depth: 1 },
      ],
      files: [],
      words: [],
    });
    const mail = r.find((c) => c.source === 'mail');
    expect(mail?.id).toBe('p1@x');
    expect(mail?.reasons.map((x) => x.kind).sort()).toEqual(['fixes-in-base', 'function', 'mail', 'stable']);
    expect(mail?.series).toEqual({ part: 1, total: 2, version: 2 });
    const c4 = r.find((c) => c.id === s.c.c4);
    expect(c4?.reasons.find((x) => x.kind === 'mail')?.detail).toMatch(/m4@x/);
    expect(r.filter((c) => c.source === 'mail')).toHaveLength(1);
  });

  it('is detected as an archive by `ktriage history index`', () => {
    const bin = join(import.meta.dirname, '../../bin/ktriage.mjs');
    const r = spawnSync(
      process.execPath,
      [bin, 'history', 'index', join(dir, 'inbox'), '--index', join(dir, 'cli.sqlite')],
      {
        encoding: 'utf8',
      },
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/indexed 4 new emails \(3 patches, 0 missing blobs\)/);
  });

  it('is incremental', async () => {
    const r = await indexMailArchive(join(dir, 'inbox'), { index: join(dir, 'mail.sqlite') });
    expect(r.newMails).toBe(0);
    expect(
      execFileSync('git', ['-C', join(dir, 'inbox'), 'rev-list', '--count', 'HEAD'], {
        encoding: 'utf8',
      }).trim(),
    ).toBe('4');
  });
});
