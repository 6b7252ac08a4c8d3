// Query matches of node-tree-sitter 0.22 read without SyntaxNode objects.
//
// `Query.matches()` turns every captured node into a SyntaxNode and registers it in the tree's node
// cache, each with an N-API weak reference and finalizer; BigInt node ids key a Map per call. On
// the kernel tree that is millions of short-lived objects with finalizers per worker, which cost
// more in GC and finalizer work than the extraction itself. Here the binding's own `_matches` is
// called and the captured nodes are read from its transfer buffer (6 uint32 per node: id low/high,
// start byte, start row, start column, alias; bytes count UTF-16 units, so char index = byte / 2).
// The few properties the extractor needs beyond start position (end, end row, hasError, parent,
// a field child) go through the binding's NodeMethods, as SyntaxNode's own getters do, with the
// node written into the same transfer buffer. selfCheck() compares this path with the public API.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import Parser from 'tree-sitter';

/** The parts of the tree-sitter binding used here (see node_modules/tree-sitter/src/node.cc). */
interface Binding {
  Query: unknown;
  nodeTransferArray: Uint32Array;
  pointTransferArray: Uint32Array;
  NodeMethods: {
    endIndex(tree: Parser.Tree): number | undefined;
    endPosition(tree: Parser.Tree): undefined;
    hasError(tree: Parser.Tree): boolean | undefined;
    parent(tree: Parser.Tree): unknown;
    childForFieldName(tree: Parser.Tree, name: string): unknown;
  };
}
type RawMatches = (
  this: Parser.Query,
  tree: Parser.Tree,
  startRow: number,
  startColumn: number,
  endRow: number,
  endColumn: number,
  startIndex: number,
  endIndex: number,
  matchLimit: number,
  maxStartDepth: number,
  timeoutMicros: number,
) => [Array<number | string>, Array<number | object | null>];

const FIELDS = 6;

function loadBinding(): { binding: Binding; rawMatches: RawMatches } {
  const req = createRequire(import.meta.url);
  const pkg = dirname(req.resolve('tree-sitter'));
  // node-gyp-build resolves the same .node file tree-sitter's index.js loaded; Node caches addons
  // by path, so this is the same module instance (checked below).
  const gypBuild = createRequire(req.resolve('tree-sitter'))('node-gyp-build') as (dir: string) => Binding;
  const binding = gypBuild(pkg);
  const rawMatches = (Parser.Query.prototype as unknown as { _matches?: RawMatches })._matches;
  if (binding.Query !== Parser.Query || typeof rawMatches !== 'function' || !binding.NodeMethods) {
    throw new Error(
      'tree-sitter binding layout not as expected (tree-sitter 0.22.x required for the raw query path)',
    );
  }
  return { binding, rawMatches };
}

let loaded: { binding: Binding; rawMatches: RawMatches } | null = null;

/**
 * The matches of one query over one tree: pattern index per match, capture names and node data per
 * capture (captures of match m are first[m] .. first[m+1]-1).
 */
export class Matches {
  readonly count: number;
  readonly pattern: Int32Array;
  readonly first: Int32Array;
  readonly names: string[];
  private readonly nd: Uint32Array;
  private readonly tree: Parser.Tree;
  private readonly b: Binding;

  constructor(query: Parser.Query, tree: Parser.Tree) {
    loaded ??= loadBinding();
    const { binding, rawMatches } = loaded;
    this.b = binding;
    this.tree = tree;
    const root = tree.rootNode as unknown as ArrayLike<number>;
    let ta = binding.nodeTransferArray;
    for (let i = 0; i < FIELDS; i++) ta[i] = root[i]!;
    const [ms, ns] = rawMatches.call(query, tree, 0, 0, 0, 0, 0, 0, 0xffffffff, 0xffffffff, 0);
    // The binding may have replaced the transfer buffer with a larger one.
    ta = binding.nodeTransferArray;
    const nd = new Uint32Array(ns.length * FIELDS);
    let off = 0;
    for (let i = 0; i < ns.length; i++) {
      const v = ns[i];
      const o = i * FIELDS;
      if (v !== null && typeof v === 'object') {
        // A node already cached by the tree (only the root node is, here): its fields are on it.
        const n = v as unknown as ArrayLike<number>;
        for (let k = 0; k < FIELDS; k++) nd[o + k] = n[k]!;
      } else {
        for (let k = 0; k < FIELDS; k++) nd[o + k] = ta[off + k]!;
        off += FIELDS;
      }
    }
    this.nd = nd;
    let nMatches = 0;
    for (let i = 0; i < ms.length; i++) if (typeof ms[i] === 'number') nMatches++;
    const pattern = new Int32Array(nMatches);
    const first = new Int32Array(nMatches + 1);
    const names: string[] = new Array(ns.length);
    let m = -1;
    let c = 0;
    for (let i = 0; i < ms.length; i++) {
      const v = ms[i]!;
      if (typeof v === 'number') {
        m++;
        pattern[m] = v;
        first[m] = c;
      } else names[c++] = v;
    }
    first[nMatches] = c;
    this.count = nMatches;
    this.pattern = pattern;
    this.first = first;
    this.names = names;
  }

  /** Capture index of `name` in match `m`, or -1. */
  find(m: number, name: string): number {
    const end = this.first[m + 1]!;
    for (let i = this.first[m]!; i < end; i++) if (this.names[i] === name) return i;
    return -1;
  }
  /** Capture index of `name` in match `m`; throws when the query did not capture it. */
  get(m: number, name: string): number {
    const i = this.find(m, name);
    if (i < 0) throw new Error(`tree-sitter query: capture ${name} missing`);
    return i;
  }
  /** Start of captured node `i` as a string index. */
  start(i: number): number {
    return this.nd[i * FIELDS + 2]! >>> 1;
  }
  /** 0-based start row of captured node `i`. */
  row(i: number): number {
    return this.nd[i * FIELDS + 3]!;
  }
  private load(i: number): void {
    const ta = this.b.nodeTransferArray;
    const o = i * FIELDS;
    for (let k = 0; k < FIELDS; k++) ta[k] = this.nd[o + k]!;
  }
  /** End of captured node `i` as a string index. */
  end(i: number): number {
    this.load(i);
    return this.b.NodeMethods.endIndex(this.tree) ?? 0;
  }
  /** 0-based end row of captured node `i`. */
  endRow(i: number): number {
    this.load(i);
    this.b.NodeMethods.endPosition(this.tree);
    return this.b.pointTransferArray[0]!;
  }
  hasError(i: number): boolean {
    this.load(i);
    return this.b.NodeMethods.hasError(this.tree) === true;
  }
  /**
   * [start, end) of the child in field `field` of the parent of captured node `i` (the arguments
   * of a call whose function is the captured identifier), or null.
   */
  parentFieldSpan(i: number, field: string): [number, number] | null {
    this.load(i);
    const nm = this.b.NodeMethods;
    const parent = nm.parent(this.tree);
    if (parent === null || parent === undefined) return null;
    if (typeof parent === 'object') this.loadObject(parent);
    const child = nm.childForFieldName(this.tree, field);
    if (child === null || child === undefined) return null;
    if (typeof child === 'object') this.loadObject(child);
    const start = this.b.nodeTransferArray[2]! >>> 1;
    const end = nm.endIndex(this.tree);
    return end === undefined ? null : [start, end];
  }
  private loadObject(node: object): void {
    const n = node as unknown as ArrayLike<number>;
    const ta = this.b.nodeTransferArray;
    for (let k = 0; k < FIELDS; k++) ta[k] = n[k]!;
  }
}

/**
 * Checks the raw path against the public API on a small parse: same matches, captures and node
 * positions. Throws when they differ (another tree-sitter version with another layout).
 */
export function selfCheck(parser: Parser, query: Parser.Query): void {
  const src = 'struct s { int (*f)(int); };\nstatic int g(struct s *p) {\n  return p->f(h(1, 2));\n}\n';
  const tree = parser.parse(src);
  const pub = query.matches(tree.rootNode);
  const raw = new Matches(query, tree);
  const fail = (what: string): never => {
    throw new Error(`tree-sitter raw query path disagrees with the public API (${what})`);
  };
  if (raw.count !== pub.length) fail('match count');
  for (let m = 0; m < pub.length; m++) {
    const caps = pub[m]!.captures;
    if (raw.pattern[m] !== pub[m]!.pattern) fail('pattern');
    if (raw.first[m + 1]! - raw.first[m]! !== caps.length) fail('capture count');
    for (let k = 0; k < caps.length; k++) {
      const i = raw.first[m]! + k;
      const n = caps[k]!.node;
      if (raw.names[i] !== caps[k]!.name) fail('capture name');
      if (raw.start(i) !== n.startIndex || raw.row(i) !== n.startPosition.row) fail('start');
      if (raw.end(i) !== n.endIndex || raw.endRow(i) !== n.endPosition.row) fail('end');
      if (raw.hasError(i) !== n.hasError) fail('hasError');
    }
  }
  // parentFieldSpan on the call `h(1, 2)`: its arguments are `(1, 2)`.
  for (let m = 0; m < raw.count; m++) {
    for (let i = raw.first[m]!; i < raw.first[m + 1]!; i++) {
      if (src.slice(raw.start(i), raw.end(i)) !== 'h') continue;
      const span = raw.parentFieldSpan(i, 'arguments');
      if (!span || src.slice(span[0], span[1]) !== '(1, 2)') fail('parent field');
      return;
    }
  }
  fail('no call captured');
}
