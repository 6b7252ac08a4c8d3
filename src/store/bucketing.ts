// Bucketing: which bucket a new crash joins. Pure, in memory; the store feeds it the buckets it
// knows and persists its decisions. Rules, in order:
//   0. a crash whose title and normalised frames equal an earlier crash's joins that crash's
//      bucket (so the same bug from many hosts lands in one bucket whatever the arrival order)
//                                                                       -> 'title+stack' (1) / 'title'
//   1. same title and a stack similar enough (>= sameTitleThreshold)  -> 'title+stack'
//      (when either side has no stack to compare, the same title alone -> 'title')
//   2. otherwise the most similar bucket of any title (>= crossTitleThreshold, both stacks at least
//      minCrossFrames long)                                             -> 'stack'
//   3. otherwise a new bucket                                           -> 'new'
// Ties go to the lowest bucket id, so `rebucket` over the same crashes in the same order always
// gives the same buckets.
import { createHash } from 'node:crypto';
import type { JoinRule } from './types.ts';

export interface BucketRules {
  sameTitleThreshold: number;
  crossTitleThreshold: number;
  /** Stacks shorter than this never join across titles (two-frame stacks match too easily). */
  minCrossFrames: number;
  /** How many leading frames index a bucket for cross-title candidates. */
  indexFrames: number;
}

export const DEFAULT_RULES: BucketRules = {
  sameTitleThreshold: 0.5,
  crossTitleThreshold: 0.85,
  minCrossFrames: 4,
  indexFrames: 6,
};

export interface KnownBucket {
  id: number;
  title: string;
  signature: string[];
}

export interface Decision {
  /** null: found a new bucket. */
  bucketId: number | null;
  rule: JoinRule;
  similarity: number | null;
}

export type Similarity = (a: string[], b: string[]) => number;

export class Bucketer {
  private readonly byTitle = new Map<string, KnownBucket[]>();
  private readonly byFrame = new Map<string, number[]>();
  private readonly byId = new Map<number, KnownBucket>();
  /** signatureKey -> bucket of the first crash with that title and stack. */
  private readonly exact = new Map<string, number>();
  maxId = 0;

  constructor(
    private readonly similarity: Similarity,
    readonly rules: BucketRules = DEFAULT_RULES,
  ) {}

  get size(): number {
    return this.byId.size;
  }

  has(id: number): boolean {
    return this.byId.has(id);
  }

  /** Buckets must be added in ascending id order (ties resolve to the first added). */
  add(b: KnownBucket): void {
    if (this.byId.has(b.id)) return;
    this.byId.set(b.id, b);
    if (b.id > this.maxId) this.maxId = b.id;
    const list = this.byTitle.get(b.title);
    if (list) list.push(b);
    else this.byTitle.set(b.title, [b]);
    for (const f of new Set(b.signature.slice(0, this.rules.indexFrames))) {
      const ids = this.byFrame.get(f);
      if (ids) ids.push(b.id);
      else this.byFrame.set(f, [b.id]);
    }
  }

  /** Records that a crash with this key is in bucketId (the first record wins). */
  remember(key: string, bucketId: number): void {
    if (!this.exact.has(key)) this.exact.set(key, bucketId);
  }

  knows(key: string): boolean {
    return this.exact.has(key);
  }

  decide(title: string, signature: string[], key?: string): Decision {
    const r = this.rules;
    const ex = key === undefined ? undefined : this.exact.get(key);
    if (ex !== undefined && this.byId.has(ex)) {
      return signature.length
        ? { bucketId: ex, rule: 'title+stack', similarity: 1 }
        : { bucketId: ex, rule: 'title', similarity: null };
    }
    const same = this.byTitle.get(title);
    if (same) {
      let best: KnownBucket | null = null;
      let bestSim = -1;
      let stackless: KnownBucket | null = null;
      for (const b of same) {
        if (signature.length === 0 || b.signature.length === 0) {
          stackless ??= b;
          continue;
        }
        const s = this.similarity(signature, b.signature);
        if (s > bestSim) {
          bestSim = s;
          best = b;
        }
      }
      if (best && bestSim >= r.sameTitleThreshold)
        return { bucketId: best.id, rule: 'title+stack', similarity: bestSim };
      if (stackless) return { bucketId: stackless.id, rule: 'title', similarity: null };
    }
    if (signature.length >= r.minCrossFrames) {
      const seen = new Set<number>();
      let best: KnownBucket | null = null;
      let bestSim = -1;
      for (const f of signature.slice(0, r.indexFrames)) {
        for (const id of this.byFrame.get(f) ?? []) {
          if (seen.has(id)) continue;
          seen.add(id);
          const b = this.byId.get(id)!;
          if (b.signature.length < r.minCrossFrames) continue;
          const s = this.similarity(signature, b.signature);
          if (s > bestSim || (s === bestSim && best && b.id < best.id)) {
            bestSim = s;
            best = b;
          }
        }
      }
      if (best && bestSim >= r.crossTitleThreshold)
        return { bucketId: best.id, rule: 'stack', similarity: bestSim };
    }
    return { bucketId: null, rule: 'new', similarity: null };
  }
}

/** The identity of a crash for rule 0: its title and normalised frames. */
export function signatureKey(title: string, signature: string[]): string {
  return createHash('sha256').update(title).update('\n').update(signature.join('\n')).digest('hex');
}
