import { describe, expect, it } from 'vitest';
import { commandWords, splitTranscript } from '../../../src/vmcore/parse/index.ts';
import { readShared } from './helpers.ts';

describe('splitTranscript', () => {
  it('splits the seed crash session into commands and outputs', () => {
    const e = splitTranscript(readShared('seed/crash-session.txt'));
    expect(e.map((x) => x.command)).toEqual([
      'mod | grep nfs',
      'mod -s nfs',
      'mod -s nfsv3',
      'mod -s nfsv4',
      'bt',
      'dis -l nfs_unlock_request',
      'dis -l nfs_end_page_writeback',
      'struct nfs_page ffff9bf9f048da00 -x',
      'kmem ffff9bf9f048da00',
      'struct page 0xfffffb9dd6f34dc0 -x',
      'search 0xfffffb9dd6f34dc0',
    ]);
    expect(e[1]!.output).toBe('');
    expect(e[4]!.elided).toBe(true);
    expect(e[5]!.elided).toBe(false);
    expect(e[4]!.output.split('\n')[0]).toMatch(/^PID: 3930345/);
    expect(e[10]!.output.split('\n')).toHaveLength(10);
  });

  it('finds prompts inside prose and strips `# notes` from commands (the original write-up)', () => {
    const e = splitTranscript(readShared('seed/000_6511a08bf7437241.txt'));
    const cmds = e.map((x) => x.command);
    expect(cmds).toContain('bt');
    expect(cmds).toContain('kmem ffff9bf9f048da00');
    expect(cmds).toContain('search 0xfffffb9dd6f34dc0');
  });

  it('reads Markdown notes: headings and backticked commands followed by fenced output', () => {
    const md = [
      '# Investigation',
      '',
      '## `bt`',
      '```',
      'PID: 1  TASK: ffff8e7541210000  CPU: 0  COMMAND: "init"',
      '...',
      '```',
      'Then I looked at the object with `struct fixture_obj ffff8e7542689050 -x`:',
      '',
      '```text',
      'struct fixture_obj {',
      '  id = 0x1234,',
      '}',
      '```',
      'A block without a command is ignored:',
      '```',
      'just notes',
      '```',
      '```',
      'crash> kmem -s task_struct',
      'CACHE  OBJSIZE',
      'crash> p jiffies',
      'jiffies = $1 = 4294893090',
      '```',
    ].join('\n');
    const e = splitTranscript(md);
    expect(e.map((x) => x.command)).toEqual([
      'bt',
      'struct fixture_obj ffff8e7542689050 -x',
      'kmem -s task_struct',
      'p jiffies',
    ]);
    expect(e[0]!.elided).toBe(true);
    expect(e[1]!.output).toBe('struct fixture_obj {\n  id = 0x1234,\n}');
    expect(e[3]!.output).toBe('jiffies = $1 = 4294893090');
    expect(e[1]!.line).toBe(8);
  });

  it('splits pipes off the command words', () => {
    expect(commandWords('mod | grep nfs')).toEqual({ verb: 'mod', args: [], pipe: 'grep nfs' });
    expect(commandWords('struct nfs_page ffff9bf9f048da00 -x')).toEqual({
      verb: 'struct',
      args: ['nfs_page', 'ffff9bf9f048da00', '-x'],
      pipe: null,
    });
  });
});
