// Mailing-list archives in public-inbox git format (v2 epochs: each commit adds one email as the
// file `m`; v1: one file per message). One `git log --raw` pass lists the blobs, `git cat-file
// --batch` streams them; each email is parsed for its subject (`[PATCH v2 3/10]`), Fixes/stable
// trailers and the files and functions its diff touches (hunk headers come from the sender's git
// configuration, so the +/- and context lines are walked for function boundaries as well).
import { spawn } from 'node:child_process';
import { DiffScanner } from './cdiff.ts';
import { type Db, IndexError, openIndex, setMeta } from './db.ts';
import { gitDirOf, gitEnv, revParse, streamGit } from './git.ts';
import { defaultIndexFile } from './indexer.ts';
import { parseMessage, parsePatchSubject } from './message.ts';

export interface Email {
  headers: Map<string, string>;
  subject: string;
  msgid: string | null;
  inReplyTo: string | null;
  from: string | null;
  /** Decoded text of the first text/plain part (or the whole body). */
  body: string;
}

/** Decodes RFC 2047 encoded words (`=?utf-8?q?...?=`, `=?UTF-8?B?...?=`) in a header value. */
export function decodeHeader(v: string): string {
  if (!v.includes('=?')) return v;
  let out = '';
  let i = 0;
  let lastWasWord = false;
  while (i < v.length) {
    const start = v.indexOf('=?', i);
    if (start < 0) {
      out += v.slice(i);
      break;
    }
    const between = v.slice(i, start);
    const q1 = v.indexOf('?', start + 2);
    const q2 = q1 < 0 ? -1 : v.indexOf('?', q1 + 1);
    const end = q2 < 0 ? -1 : v.indexOf('?=', q2 + 1);
    if (q1 < 0 || q2 < 0 || end < 0) {
      out += v.slice(i);
      break;
    }
    // Whitespace between two encoded words is dropped.
    if (!(lastWasWord && between.trim() === '')) out += between;
    const charset = v.slice(start + 2, q1).toLowerCase();
    const enc = v.slice(q1 + 1, q2).toLowerCase();
    const text = v.slice(q2 + 1, end);
    let bytes: Buffer;
    if (enc === 'b') bytes = Buffer.from(text, 'base64');
    else bytes = qpDecode(text.replace(/_/g, ' '));
    out +=
      charset.includes('8859') || charset.includes('latin')
        ? bytes.toString('latin1')
        : bytes.toString('utf8');
    i = end + 2;
    lastWasWord = true;
  }
  return out;
}

function qpDecode(s: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '=') {
      if (s[i + 1] === '\n') {
        i += 1;
        continue;
      }
      if (s[i + 1] === '\r' && s[i + 2] === '\n') {
        i += 2;
        continue;
      }
      const h = s.slice(i + 1, i + 3);
      if (/^[0-9A-Fa-f]{2}$/.test(h)) {
        bytes.push(Number.parseInt(h, 16));
        i += 2;
        continue;
      }
    }
    const code = c.charCodeAt(0);
    if (code < 128) bytes.push(code);
    else bytes.push(...Buffer.from(c));
  }
  return Buffer.from(bytes);
}

function splitHead(raw: string): { head: string; body: string } {
  const a = raw.indexOf('\n\n');
  if (a < 0) return { head: raw, body: '' };
  return { head: raw.slice(0, a), body: raw.slice(a + 2) };
}

function parseHeaders(head: string): Map<string, string> {
  const h = new Map<string, string>();
  let name = '';
  for (const line of head.split('\n')) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && name) {
      h.set(name, `${h.get(name)} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    name = line.slice(0, colon).toLowerCase();
    if (!h.has(name)) h.set(name, line.slice(colon + 1).trim());
  }
  return h;
}

function param(value: string, key: string): string | null {
  const lower = value.toLowerCase();
  const i = lower.indexOf(`${key}=`);
  if (i < 0) return null;
  let v = value.slice(i + key.length + 1);
  if (v.startsWith('"')) {
    const e = v.indexOf('"', 1);
    return e > 0 ? v.slice(1, e) : v.slice(1);
  }
  const semi = v.indexOf(';');
  if (semi >= 0) v = v.slice(0, semi);
  return v.trim();
}

function decodeBody(body: string, headers: Map<string, string>, depth = 0): string {
  const ctype = (headers.get('content-type') ?? 'text/plain').toLowerCase();
  const cte = (headers.get('content-transfer-encoding') ?? '').toLowerCase();
  if (ctype.startsWith('multipart/') && depth < 4) {
    const boundary = param(headers.get('content-type') ?? '', 'boundary');
    if (!boundary) return body;
    const parts = body.split(`--${boundary}`);
    for (const part of parts.slice(1)) {
      if (part.startsWith('--')) break;
      const { head, body: pb } = splitHead(part.replace(/^\r?\n/, ''));
      const ph = parseHeaders(head);
      const pt = (ph.get('content-type') ?? 'text/plain').toLowerCase();
      if (pt.startsWith('text/plain') || pt.startsWith('multipart/')) return decodeBody(pb, ph, depth + 1);
    }
    return '';
  }
  const charset = (param(headers.get('content-type') ?? '', 'charset') ?? 'utf-8').toLowerCase();
  let bytes: Buffer | null = null;
  if (cte.includes('base64')) bytes = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  else if (cte.includes('quoted-printable')) bytes = qpDecode(body);
  if (!bytes) return body;
  return charset.includes('8859') || charset.includes('latin')
    ? bytes.toString('latin1')
    : bytes.toString('utf8');
}

/** Parses one RFC 822 email (as stored by public-inbox). */
export function parseEmail(raw: string): Email {
  const text = raw.includes('\r\n') ? raw.replace(/\r\n/g, '\n') : raw;
  const { head, body } = splitHead(text);
  const headers = parseHeaders(head);
  const angle = (v: string | undefined): string | null => {
    if (!v) return null;
    const a = v.indexOf('<');
    const b = v.indexOf('>', a + 1);
    return a >= 0 && b > a ? v.slice(a + 1, b) : v.trim() || null;
  };
  return {
    headers,
    subject: decodeHeader(headers.get('subject') ?? '')
      .replace(/\s+/g, ' ')
      .trim(),
    msgid: angle(headers.get('message-id')),
    inReplyTo: angle(headers.get('in-reply-to')),
    from: headers.has('from') ? decodeHeader(headers.get('from')!) : null,
    body: decodeBody(body, headers),
  };
}

/** The commit-message part of a mailed patch: the body up to the `---` line or the first diff. */
export function patchMessage(body: string): string {
  const lines = body.split('\n');
  const out: string[] = [];
  for (const l of lines) {
    if (l === '---' || l.startsWith('diff --git ') || l.startsWith('Index: ')) break;
    out.push(l);
  }
  return out.join('\n').trim();
}

/** Streams `git cat-file --batch` for the given blob ids; calls onBlob(id, content|null). */
function catBlobs(
  repo: string,
  ids: string[],
  onBlob: (i: number, content: Buffer | null) => void,
): Promise<void> {
  if (ids.length === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['-C', repo, 'cat-file', '--batch'], {
      env: gitEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let buf: Buffer = Buffer.alloc(0);
    let next = 0;
    let need = -1; // bytes of content still expected (+1 newline), -1 while reading a header
    let stderr = '';
    let failed: Error | null = null;
    child.stdout.on('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      try {
        for (;;) {
          if (need < 0) {
            const nl = buf.indexOf(10);
            if (nl < 0) break;
            const header = buf.toString('utf8', 0, nl);
            buf = buf.subarray(nl + 1);
            if (header.endsWith(' missing') || header.endsWith(' ambiguous')) {
              onBlob(next++, null);
              continue;
            }
            const size = Number(header.split(' ')[2]);
            if (!Number.isFinite(size)) throw new IndexError(`git cat-file: unexpected header ${header}`);
            need = size;
          }
          if (buf.length < need + 1) break;
          onBlob(next++, buf.subarray(0, need));
          buf = buf.subarray(need + 1);
          need = -1;
        }
      } catch (err) {
        failed = err as Error;
        child.kill();
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', (e) => reject(new IndexError(`cannot run git cat-file: ${e.message}`)));
    child.on('close', (code) => {
      if (failed) return reject(failed);
      if (code !== 0)
        return reject(new IndexError(`git cat-file --batch failed in ${repo}: ${stderr.trim()}`));
      if (next !== ids.length)
        return reject(new IndexError(`git cat-file --batch returned ${next} of ${ids.length} blobs`));
      resolve();
    });
    child.stdin.on('error', () => {});
    child.stdin.end(`${ids.join('\n')}\n`);
  });
}

export interface MailIndexResult {
  indexFile: string;
  newMails: number;
  patches: number;
  missing: number;
  totalMails: number;
  seconds: number;
}

/** True when HEAD's tree looks like a public-inbox archive (`m`, `d` or 2-hex fan-out dirs only). */
export function looksLikePublicInbox(listing: string): boolean {
  const names = listing
    .split('\n')
    .filter(Boolean)
    .map((l) => l.slice(l.indexOf('\t') + 1));
  if (names.length === 0) return false;
  return names.every((n) => n === 'm' || n === 'd' || /^[0-9a-f]{2}$/.test(n));
}

/** Builds or updates the index of a public-inbox git archive. */
export async function indexMailArchive(
  repo: string,
  opts: {
    index?: string;
    range?: string;
    onProgress?: (done: number, total: number) => void;
    onNote?: (m: string) => void;
  } = {},
): Promise<MailIndexResult> {
  const t0 = Date.now();
  const gitDir = gitDirOf(repo);
  const indexFile = opts.index ?? defaultIndexFile(gitDir);
  const db = openIndex(indexFile, { create: true });
  try {
    return await indexMailsInto(db, repo, indexFile, opts, t0);
  } finally {
    db.close();
  }
}

async function indexMailsInto(
  db: Db,
  repo: string,
  indexFile: string,
  opts: { range?: string; onProgress?: (done: number, total: number) => void; onNote?: (m: string) => void },
  t0: number,
): Promise<MailIndexResult> {
  setMeta(db, 'repo', repo);
  setMeta(db, 'kind', 'mail');
  const revs = opts.range ? opts.range.split(/\s+/).filter(Boolean) : ['HEAD'];
  const tip = revParse(repo, revs[revs.length - 1]!.split('..').pop() || 'HEAD');
  if (!tip) throw new IndexError(`${repo}: cannot resolve ${revs.join(' ')}`);
  const prior = (
    db.prepare('SELECT tips FROM runs WHERE bounded = 0 AND finished IS NOT NULL').pluck().all() as string[]
  ).flatMap((t) => t.split(' ').filter(Boolean));
  const notArgs = prior.length > 0 && !opts.range ? ['--not', ...new Set(prior)] : [];
  const runId = Number(
    db
      .prepare('INSERT INTO runs(started, revs, bounded, tips) VALUES (?, ?, ?, ?)')
      .run(Math.floor(t0 / 1000), revs.join(' '), opts.range ? 1 : 0, tip).lastInsertRowid,
  );
  // One pass for the blob ids: `:000000 100644 <old> <new> A\tm`.
  const items: { commit: string; time: number; blob: string }[] = [];
  let cur: { commit: string; time: number } | null = null;
  const r = await streamGit(
    repo,
    ['log', '--raw', '--no-abbrev', '--no-renames', '--format=%x01%H %at', ...revs, ...notArgs, '--'],
    (line) => {
      if (line.charCodeAt(0) === 1) {
        const sp = line.indexOf(' ');
        cur = { commit: line.slice(1, sp), time: Number(line.slice(sp + 1)) };
        return;
      }
      if (!line.startsWith(':') || !cur) return;
      const tab = line.indexOf('\t');
      const f = line.slice(0, tab).split(' ');
      const path = line.slice(tab + 1);
      if (f[4] === 'D' || path === 'd') return;
      items.push({ commit: cur.commit, time: cur.time, blob: f[3]! });
    },
  );
  if (r.code !== 0) throw new IndexError(`git log --raw failed in ${repo}: ${r.stderr.trim()}`);
  const known = db.prepare('SELECT 1 FROM mails WHERE commit_sha = ?').pluck();
  const todo = items.filter((it) => !known.get(it.commit));
  const ins = db.prepare(
    `INSERT OR IGNORE INTO mails(commit_sha, blob, time, msgid, in_reply_to, author, subject, clean_subject, is_patch, is_reply,
       version, part, total, tags, series, stable, stable_hint, body, missing)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insFile = db.prepare('INSERT INTO mail_files(mail_id, path, status) VALUES (?, ?, ?)');
  const insFunc = db.prepare('INSERT INTO mail_funcs(mail_id, path, func, flags) VALUES (?, ?, ?, ?)');
  const insFix = db.prepare('INSERT INTO mail_fixes(mail_id, ref, subject) VALUES (?, ?, ?)');
  const scan = new DiffScanner();
  let done = 0;
  let patches = 0;
  let missing = 0;
  let newMails = 0;
  opts.onProgress?.(0, todo.length);
  db.exec('BEGIN');
  try {
    await catBlobs(
      repo,
      todo.map((t) => t.blob),
      (i, content) => {
        const it = todo[i]!;
        done++;
        if ((done & 255) === 0) {
          db.exec('COMMIT');
          db.exec('BEGIN');
          opts.onProgress?.(done, todo.length);
        }
        if (!content) {
          missing++;
          ins.run(
            it.commit,
            it.blob,
            it.time,
            null,
            null,
            null,
            '',
            '',
            0,
            0,
            1,
            null,
            null,
            null,
            null,
            0,
            null,
            '',
            1,
          );
          return;
        }
        const mail = parseEmail(content.toString('utf8'));
        const ps = parsePatchSubject(mail.subject);
        const hasDiff = mail.body.includes('\ndiff --git ') || mail.body.startsWith('diff --git ');
        const isPatch = (ps.isPatch || hasDiff) && !ps.isReply;
        const msg = isPatch ? patchMessage(mail.body) : '';
        const facts = isPatch ? parseMessage(`${ps.clean}\n\n${msg}`) : null;
        // A series is named by its thread root: the cover letter (0/N) or what parts reply to.
        let series: string | null = mail.msgid;
        if (ps.isReply) series = null;
        else if (ps.part !== null && ps.part > 0) series = mail.inReplyTo ?? mail.msgid;
        const res = ins.run(
          it.commit,
          it.blob,
          it.time,
          mail.msgid,
          mail.inReplyTo,
          mail.from,
          mail.subject,
          ps.clean,
          isPatch ? 1 : 0,
          ps.isReply ? 1 : 0,
          ps.version,
          ps.part,
          ps.total,
          ps.tags.join(' ') || null,
          series,
          facts?.stable ? 1 : 0,
          facts?.stableHint ?? null,
          msg.slice(0, 8000),
          0,
        );
        if (res.changes === 0) return;
        newMails++;
        const id = Number(res.lastInsertRowid);
        if (!isPatch) return;
        patches++;
        for (const f of facts?.fixes ?? []) insFix.run(id, f.ref, f.subject);
        if (hasDiff) {
          scan.reset();
          let start = 0;
          const body = mail.body;
          for (;;) {
            const nl = body.indexOf('\n', start);
            scan.line(nl < 0 ? body.slice(start) : body.slice(start, nl));
            if (nl < 0) break;
            start = nl + 1;
          }
          for (const f of scan.files) insFile.run(id, f.path, f.status);
          for (const fn of scan.funcs) insFunc.run(id, fn.path, fn.func, fn.flags);
        }
      },
    );
    db.exec('COMMIT');
  } catch (err) {
    db.exec('COMMIT');
    throw err;
  }
  opts.onProgress?.(done, todo.length);
  if (missing > 0)
    opts.onNote?.(`${missing} email blob(s) missing from this (partial) clone; recorded as missing`);
  db.prepare('UPDATE runs SET finished = ?, commits = ? WHERE id = ?').run(
    Math.floor(Date.now() / 1000),
    newMails,
    runId,
  );
  const totalMails = db.prepare('SELECT count(*) FROM mails').pluck().get() as number;
  return { indexFile, newMails, patches, missing, totalMails, seconds: (Date.now() - t0) / 1000 };
}
