// Which parser reads which crash command (the table behind `ktriage crash --json`), on real output
// from ../shared/samples (crash 8.0.2 on Debian 6.1).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseCommandOutput, parserFor } from '../../src/vmcore/parsed.ts';

const shared = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared');
const sample = (f: string) => readFileSync(path.join(shared, 'samples/crash-8.0.2-debian-6.1', f), 'utf8');

describe('parserFor', () => {
  it.each([
    ['bt', 'parseBt'],
    ['bt -FF 1', 'parseBt'],
    ['foreach bt', 'parseBt'],
    ['dis -l nfs_unlock_request', 'parseDis'],
    ['struct nfs_page ffff9bf9f048da00 -x', 'parseStruct'],
    ['struct nfs_page -o', 'parseStructOffsets'],
    ['struct nfs_page', 'parseTypeInfo'],
    ['p *fixture_global_obj', 'parsePrint'],
    ['px jiffies', 'parsePrint'],
    ['whatis nfs_unlock_request', 'parseTypeInfo'],
    ['kmem ffff9bf9f048da00', 'parseKmemAddress'],
    ['kmem -s nfs_page', 'parseKmemS'],
    ['search -k feedfacecafebeef', 'parseSearch'],
    ['rd -x linux_banner 4', 'parseRd'],
    ['mod', 'parseMod'],
    ['list task_struct.tasks -h init_task', 'parseList'],
    ['task', 'parseTask'],
    ['sys', 'parseSys'],
    ['log', 'parseCrashLog'],
    ['ps', 'parsePs'],
    ['sym schedule', 'parseSym'],
  ])('%s -> %s', (command, parser) => {
    expect(parserFor(command)?.name).toBe(parser);
  });

  it.each(['kmem -i', 'mod -s nfs', 'sys -c', 'mod | grep nfs', 'help', 'runq', 'log -a'])(
    '%s stays raw',
    (command) => {
      expect(parserFor(command)).toBeNull();
    },
  );
});

describe('parseCommandOutput', () => {
  it('parses a real bt into frames with the exception registers', () => {
    const r = parseCommandOutput('bt', sample('crash-bt-bug.txt').split('\nPID:')[0]!);
    expect(r.parser).toBe('parseBt');
    expect(r.error).toBeUndefined();
    const [task] = r.value as { pid: number; frames: { func: string }[] }[];
    expect(task!.pid).toBe(1);
    expect(task!.frames.map((f) => f.func)).toContain('fixture_level2');
  });

  it('keeps raw text for commands without a parser and says why a parser failed', () => {
    expect(parseCommandOutput('kmem -i', 'whatever')).toEqual({ parser: null, value: null });
    const bad = parseCommandOutput('p jiffies', '');
    expect(bad.parser).toBe('parsePrint');
  });
});
