// `ktriage src ...` end to end through the real CLI entry (bin/ktriage.mjs) on a synthetic tree.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = resolve(import.meta.dirname, '../../bin/ktriage.mjs');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, 'src', ...args], { encoding: 'utf8', timeout: 60_000 });

describe('ktriage src CLI', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ktriage-src-cli-'));
    writeFileSync(
      join(dir, 'x.c'),
      [
        'struct ops { void (*go)(struct obj *o); };',
        'struct obj { const struct ops *ops; unsigned long flags; };',
        'enum { O_BUSY, O_DEAD };',
        'static void real_go(struct obj *o) { set_bit(O_BUSY, &o->flags); }',
        'static const struct ops my_ops = { .go = real_go };',
        'void kick(struct obj *o) { o->ops->go(o); }',
        '',
      ].join('\n'),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('indexes into TREE/.ktriage-src.db by default and answers every query as JSON', () => {
    const ix = run('index', dir, '--json');
    expect(ix.status, ix.stderr).toBe(0);
    expect(JSON.parse(ix.stdout)).toMatchObject({ files: 1, parsed: 1, functions: 2 });
    const db = join(dir, '.ktriage-src.db');
    const callers = JSON.parse(run('callers', 'real_go', '--index', db, '--json').stdout);
    expect(callers.callers).toMatchObject([
      { caller: 'kick', kind: 'ops', through: 'struct ops.go', match: 'type' },
    ]);
    const text = run('callers', 'real_go', '--index', db).stdout;
    expect(text).toContain('<- [ops] kick  x.c:6  via struct ops.go: o->ops->go(...)');
    const writers = JSON.parse(
      run('writers', 'obj.flags', '--bit', 'O_BUSY', '--index', db, '--json').stdout,
    );
    expect(writers.writers).toMatchObject([{ func: 'real_go', op: 'set', bit: 'O_BUSY', line: 4 }]);
    const en = JSON.parse(run('enum', 'O_', '--index', db, '--json').stdout);
    expect(en[0].constants.map((c: { name: string; value: string }) => `${c.name}=${c.value}`)).toEqual([
      'O_BUSY=0',
      'O_DEAD=1',
    ]);
    expect(run('def', 'kick', '--index', db).stdout.trim()).toBe('function kick x.c:6-6');
    expect(run('errors', '--index', db).status).toBe(0);
  });

  it('fails with exit code 2 and a message naming the bad input', () => {
    const missing = run('callers', 'x', '--index', join(dir, 'nope.db'));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('nope.db does not exist');
    const noTree = run('index', join(dir, 'no-such-tree'), '--index', join(dir, 'y.db'));
    expect(noTree.status).toBe(2);
    expect(noTree.stderr).toContain('no-such-tree: does not exist');
    const badField = run('writers', 'nodot', '--index', join(dir, '.ktriage-src.db'));
    expect(badField.status).toBe(2);
    expect(badField.stderr).toContain('expected STRUCT.FIELD');
    const unknown = run('callers', 'never_defined_anywhere', '--index', join(dir, '.ktriage-src.db'));
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('never_defined_anywhere: not in the index');
  });
});
