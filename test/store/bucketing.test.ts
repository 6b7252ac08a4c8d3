// The bucketing rules in isolation, with a simple similarity (Jaccard over frames) standing in for
// the signature module's, so each rule and tie-break is pinned down.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bucketer, DEFAULT_RULES, signatureKey } from '../../src/store/bucketing.ts';

const jaccard = (a: string[], b: string[]) => {
  const A = new Set(a);
  const B = new Set(b);
  let n = 0;
  for (const x of A) if (B.has(x)) n++;
  return n / (A.size + B.size - n || 1);
};

describe('Bucketer', () => {
  const s1 = ['f1', 'f2', 'f3', 'f4', 'f5'];
  it('founds a bucket when nothing is known', () => {
    expect(new Bucketer(jaccard).decide('T', s1)).toEqual({ bucketId: null, rule: 'new', similarity: null });
  });
  it('joins the same title when the stack is similar enough, else not', () => {
    const b = new Bucketer(jaccard);
    b.add({ id: 1, title: 'T', signature: s1 });
    expect(b.decide('T', ['f1', 'f2', 'f3', 'f4', 'x'])).toMatchObject({ bucketId: 1, rule: 'title+stack' });
    expect(b.decide('T', ['a', 'b', 'c', 'd', 'f1'])).toMatchObject({ bucketId: null, rule: 'new' });
  });
  it('joins the same title without a stack to compare by title alone', () => {
    const b = new Bucketer(jaccard);
    b.add({ id: 4, title: 'T', signature: s1 });
    expect(b.decide('T', [])).toEqual({ bucketId: 4, rule: 'title', similarity: null });
  });
  it('joins the most similar bucket of another title above the cross-title threshold', () => {
    const b = new Bucketer(jaccard);
    b.add({ id: 1, title: 'A', signature: ['f1', 'f2', 'f3', 'f4', 'f5', 'f6'] });
    b.add({ id: 2, title: 'B', signature: ['f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'] });
    const d = b.decide('C', ['f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7']);
    expect(d).toEqual({ bucketId: 2, rule: 'stack', similarity: 1 });
    // Too short a stack never joins across titles.
    b.add({ id: 3, title: 'D', signature: ['g1', 'g2'] });
    expect(b.decide('E', ['g1', 'g2']).rule).toBe('new');
  });
  it('rule 0: a crash equal in title and stack to an earlier one joins that one bucket, whatever came since', () => {
    const b = new Bucketer(jaccard);
    b.add({ id: 1, title: 'T', signature: ['a', 'b', 'c', 'd', 'e'] });
    const sig = ['a', 'b', 'c', 'd', 'y'];
    const key = signatureKey('T', sig);
    expect(b.decide('T', sig, key).bucketId).toBe(1);
    b.remember(key, 1);
    // A later bucket that would be a closer match does not split crashes with identical stacks.
    b.add({ id: 2, title: 'T', signature: ['a', 'b', 'c', 'd', 'y', 'z'] });
    expect(b.decide('T', sig)).toMatchObject({ bucketId: 2 });
    expect(b.decide('T', sig, key)).toEqual({ bucketId: 1, rule: 'title+stack', similarity: 1 });
    expect(signatureKey('T', sig)).not.toBe(signatureKey('U', sig));
  });
  it('breaks ties by the lowest bucket id', () => {
    const b = new Bucketer(jaccard);
    b.add({ id: 1, title: 'T', signature: ['a', 'b', 'c', 'd'] });
    b.add({ id: 2, title: 'T', signature: ['a', 'b', 'c', 'd'] });
    expect(b.decide('T', ['a', 'b', 'c', 'd']).bucketId).toBe(1);
  });
  it('is a function of the crashes in order (property)', () => {
    const frame = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h');
    const crash = fc.record({
      title: fc.constantFrom('T1', 'T2', 'T3'),
      sig: fc.array(frame, { maxLength: 8 }),
    });
    fc.assert(
      fc.property(fc.array(crash, { maxLength: 40 }), (crashes) => {
        const run = () => {
          const b = new Bucketer(jaccard, DEFAULT_RULES);
          let next = 1;
          return crashes.map((c) => {
            const d = b.decide(c.title, c.sig);
            if (d.bucketId !== null) return d.bucketId;
            b.add({ id: next, title: c.title, signature: c.sig });
            return next++;
          });
        };
        const first = run();
        expect(run()).toEqual(first);
      }),
    );
  });
});
