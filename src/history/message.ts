// Commit-message and email-subject facts: `Fixes:` trailers, `Cc: stable` with version hints,
// backport markers ("commit X upstream", "[ upstream commit X ]", "(cherry picked from commit X)"),
// reverts and `[PATCH v2 3/10]` subject prefixes. Pure, line by line, linear scans only.

export interface FixesRef {
  /** The id as written (abbreviated hex, 4..40 chars), lower case, or null when none was given. */
  ref: string | null;
  /** The quoted subject, `Fixes: abc ("subject")`, or null. */
  subject: string | null;
}

export interface MessageFacts {
  fixes: FixesRef[];
  /** True when a `Cc: stable@...` line (or `Cc: <stable@...>`) is present. */
  stable: boolean;
  /** Version hints after `#` on stable Cc lines (`4.19+`, `v5.10`), joined by ', '. */
  stableHint: string | null;
  /** Upstream commit ids named by backport markers. */
  backportOf: string[];
  /** Commit ids named by `This reverts commit X.`. */
  reverts: string[];
  /** For `Revert "subject"` subjects: the reverted subject. */
  revertsSubject: string | null;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

/** Reads a hex run starting at i; returns it lower-cased or null when shorter than min. */
function hexAt(s: string, i: number, min: number): string | null {
  let j = i;
  while (j < s.length && j - i < 40 && isHex(s.charCodeAt(j))) j++;
  if (j - i < min) return null;
  // A longer word (e.g. "deadbeefzz") is not an id.
  if (j < s.length && /\w/.test(s[j]!)) return null;
  return s.slice(i, j).toLowerCase();
}

/** Finds the first hex id of at least min chars after `from` in s. */
function firstHex(s: string, from: number, min: number): string | null {
  for (let i = from; i < s.length; i++) {
    if (isHex(s.charCodeAt(i)) && (i === 0 || !/\w/.test(s[i - 1]!))) {
      const h = hexAt(s, i, min);
      if (h) return h;
    }
  }
  return null;
}

/** Parses one `Fixes:` trailer value: `<id> ("subject")`, `<id> (subject)`, or only a subject. */
export function parseFixesValue(value: string): FixesRef {
  const v = value.trim();
  let ref: string | null = null;
  let rest = v;
  if (v.length > 0 && isHex(v.charCodeAt(0))) {
    let j = 0;
    while (j < v.length && j < 40 && isHex(v.charCodeAt(j))) j++;
    if (j >= 4 && (j === v.length || !/\w/.test(v[j]!))) {
      ref = v.slice(0, j).toLowerCase();
      rest = v.slice(j).trim();
    }
  }
  let subject: string | null = null;
  if (rest.startsWith('(')) {
    let inner = rest.slice(1);
    const close = inner.lastIndexOf(')');
    if (close >= 0) inner = inner.slice(0, close);
    inner = inner.trim();
    if (inner.startsWith('"') || inner.startsWith('\u201c')) inner = inner.slice(1);
    if (inner.endsWith('"') || inner.endsWith('\u201d')) inner = inner.slice(0, -1);
    subject = inner.trim() || null;
  } else if (!ref && rest.length > 0) {
    subject = rest.replace(/^["\u201c]|["\u201d]$/g, '').trim() || null;
  }
  return { ref, subject };
}

/** Extracts the facts a fix finder needs from a commit message (subject line first). */
export function parseMessage(message: string): MessageFacts {
  const facts: MessageFacts = {
    fixes: [],
    stable: false,
    stableHint: null,
    backportOf: [],
    reverts: [],
    revertsSubject: null,
  };
  const hints: string[] = [];
  const lines = message.split('\n');
  const subject = (lines[0] ?? '').trim();
  if (subject.startsWith('Revert "')) {
    const end = subject.lastIndexOf('"');
    if (end > 8) facts.revertsSubject = subject.slice(8, end);
  }
  for (const raw of lines) {
    const line = raw.trim();
    if (line.length === 0) continue;
    const lower = line.toLowerCase();
    if (lower.startsWith('fixes:')) {
      const f = parseFixesValue(line.slice(6));
      if (f.ref || f.subject) facts.fixes.push(f);
      continue;
    }
    if (lower.startsWith('cc:') && lower.includes('stable@')) {
      facts.stable = true;
      const hash = line.indexOf('#');
      if (hash >= 0) {
        const h = line.slice(hash + 1).trim();
        if (h) hints.push(h);
      }
      continue;
    }
    // Kernel stable: "commit 0123abcd... upstream." ; DPDK and AUTOSEL: "[ upstream commit X ]",
    // "[ Upstream commit X ]"; cherry-pick -x: "(cherry picked from commit X)".
    if (lower.startsWith('commit ') && lower.includes(' upstream')) {
      const h = hexAt(line, 7, 12);
      if (h) facts.backportOf.push(h);
      continue;
    }
    if (lower.startsWith('[') && lower.includes('upstream commit')) {
      const h = firstHex(line, lower.indexOf('upstream commit') + 15, 12);
      if (h) facts.backportOf.push(h);
      continue;
    }
    if (lower.startsWith('(cherry picked from commit')) {
      const h = firstHex(line, 26, 7);
      if (h) facts.backportOf.push(h);
      continue;
    }
    if (lower.startsWith('this reverts commit')) {
      const h = firstHex(line, 19, 7);
      if (h) facts.reverts.push(h);
    }
  }
  if (hints.length > 0) facts.stableHint = hints.join(', ');
  return facts;
}

export interface PatchSubject {
  /** Subject with `[PATCH ...]`, `Re:` and similar prefixes removed. */
  clean: string;
  isPatch: boolean;
  isReply: boolean;
  /** Series version (`v2` -> 2), 1 when absent. */
  version: number;
  /** `3/10` -> part 3, total 10; null for single patches. */
  part: number | null;
  total: number | null;
  /** Other bracket words (`net-next`, `RFC`, `AUTOSEL`, `5.10`). */
  tags: string[];
}

/** Parses an email subject such as `Re: [PATCH net-next v3 2/7] nfs: fix foo`. */
export function parsePatchSubject(subject: string): PatchSubject {
  let s = subject.trim();
  let isReply = false;
  let isPatch = false;
  let version = 1;
  let part: number | null = null;
  let total: number | null = null;
  const tags: string[] = [];
  // Each round strips one leading "Re:"/"Fwd:"/"[...]"; bounded by the subject length.
  for (let guard = 0; guard < 20; guard++) {
    const lower = s.toLowerCase();
    if (lower.startsWith('re:') || lower.startsWith('aw:')) {
      isReply = true;
      s = s.slice(3).trim();
      continue;
    }
    if (lower.startsWith('fwd:')) {
      s = s.slice(4).trim();
      continue;
    }
    if (s.startsWith('[')) {
      const close = s.indexOf(']');
      if (close < 0) break;
      const inner = s.slice(1, close);
      for (const word of inner.split(/[\s,]+/)) {
        if (!word) continue;
        const w = word.toLowerCase();
        if (w === 'patch' || w === 'patchv2' || w.startsWith('patch')) {
          isPatch = true;
          const v = /^patchv(\d+)$/.exec(w);
          if (v) version = Number(v[1]);
          continue;
        }
        const vm = /^v(\d+)$/.exec(w);
        if (vm) {
          version = Number(vm[1]);
          continue;
        }
        const pm = /^(\d+)\/(\d+)$/.exec(w);
        if (pm) {
          part = Number(pm[1]);
          total = Number(pm[2]);
          continue;
        }
        tags.push(word);
      }
      s = s.slice(close + 1).trim();
      continue;
    }
    break;
  }
  return { clean: s, isPatch, isReply, version, part, total, tags };
}
