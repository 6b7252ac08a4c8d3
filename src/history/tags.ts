// Release tags: the first release (in version order) that contains each commit, computed by one
// walk over the parent links held in the index, the way `git describe --contains` would answer
// for every commit at once.

/** Version-aware tag order: v5.10-rc1 < v5.10 < v5.10.1 < v5.11; names without numbers last. */
export function compareTags(a: string, b: string): number {
  const ka = tagKey(a);
  const kb = tagKey(b);
  if (!ka && !kb) return a < b ? -1 : a > b ? 1 : 0;
  if (!ka) return 1;
  if (!kb) return -1;
  const n = Math.max(ka.nums.length, kb.nums.length);
  for (let i = 0; i < n; i++) {
    const x = ka.nums[i];
    const y = kb.nums[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x !== y) return x - y;
  }
  if (ka.rc !== kb.rc) return ka.rc - kb.rc;
  return a < b ? -1 : a > b ? 1 : 0;
}

function tagKey(tag: string): { nums: number[]; rc: number } | null {
  const m = /(\d+(?:\.\d+)*)/.exec(tag);
  if (!m) return null;
  const nums = m[1]!.split('.').map(Number);
  const rcm = /-rc(\d+)/i.exec(tag.slice(m.index + m[1]!.length));
  return { nums, rc: rcm ? Number(rcm[1]) : Number.POSITIVE_INFINITY };
}

/**
 * Assigns each commit the first tag (in version order) that contains it. parents maps a commit
 * key to its parent keys; commits outside the map (outside an indexed range) end the walk.
 */
export function firstTags<K>(parents: Map<K, K[]>, tags: { name: string; commit: K }[]): Map<K, string> {
  const sorted = [...tags].sort((a, b) => compareTags(a.name, b.name));
  const first = new Map<K, string>();
  const stack: K[] = [];
  for (const t of sorted) {
    if (!parents.has(t.commit) || first.has(t.commit)) continue;
    stack.push(t.commit);
    first.set(t.commit, t.name);
    while (stack.length > 0) {
      const c = stack.pop()!;
      for (const p of parents.get(c) ?? []) {
        // An already-marked commit was reached from an earlier tag, and so were its ancestors.
        if (first.has(p) || !parents.has(p)) continue;
        first.set(p, t.name);
        stack.push(p);
      }
    }
  }
  return first;
}

/** All ancestors of start (inclusive) within the map. */
export function ancestors<K>(parents: Map<K, K[]>, start: K): Set<K> {
  const seen = new Set<K>();
  if (!parents.has(start)) return seen;
  const stack = [start];
  seen.add(start);
  while (stack.length > 0) {
    const c = stack.pop()!;
    for (const p of parents.get(c) ?? []) {
      if (seen.has(p) || !parents.has(p)) continue;
      seen.add(p);
      stack.push(p);
    }
  }
  return seen;
}
