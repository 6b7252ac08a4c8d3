import { describe, expect, it } from 'vitest';
import {
  fieldBig,
  getField,
  parseCrashLog,
  parseList,
  parsePs,
  parseSym,
  parseSys,
  parseTask,
} from '../../../src/vmcore/parse/index.ts';
import { readShared, SAMPLES, section } from './helpers.ts';

const pass1 = readShared(`${SAMPLES}/crash-elf-pass1.txt`);

describe('sys, log, ps, sym, task, list', () => {
  it('parses sys', () => {
    const s = parseSys(section(pass1, /^ {6}KERNEL:/, /^PID:/));
    expect(s.release).toBe('6.1.0-56-amd64');
    expect(s.cpus).toBe(2);
    expect(s.machine).toBe('x86_64');
    expect(s.panic).toBe('kernel BUG at /build/module/vmcore_fixture.c:52!');
    expect(s.tainted).toBe(true);
    expect(s.kernel).toBe('/usr/lib/debug/boot/vmlinux-6.1.0-56-amd64');
    expect(s.fields['LOAD AVERAGE']).toBe('0.00, 0.00, 0.00');
  });

  it('parses log lines with timestamps', () => {
    const l = parseCrashLog(section(pass1, /^\[ {4}3.096537\]/, /^ {5}MODULE/));
    expect(l[0]).toEqual({
      time: 3.096537,
      text: 'vmcore_fixture: module verification failed: signature and/or required key missing - tainting kernel',
    });
    expect(l.find((x) => x.text.startsWith('kernel BUG'))!.time).toBe(3.118798);
  });

  it('parses ps with the active-task mark', () => {
    const rows = parsePs(section(pass1, /^ {6}PID {4}PPID/, /^PID:/));
    expect(rows).toHaveLength(3);
    expect(rows[2]).toEqual({
      active: true,
      pid: 1,
      ppid: 0,
      cpu: 0,
      task: 'ffff8e7541210000',
      state: 'RU',
      comm: 'init',
    });
    expect(rows[0]!.active).toBe(false);
  });

  it('parses sym', () => {
    const s = parseSym(
      'ffffffffc0224060 (T) fixture_crash [vmcore_fixture] /build/module/vmcore_fixture.c: 48',
    );
    expect(s[0]).toEqual({
      address: 'ffffffffc0224060',
      type: 'T',
      symbol: 'fixture_crash',
      module: 'vmcore_fixture',
      file: '/build/module/vmcore_fixture.c',
      line: 48,
    });
  });

  it('parses task -R output', () => {
    const t = parseTask(section(pass1, /^PID: 1 /, /^$/, 2));
    expect(t[0]!.header).toEqual({ pid: 1, task: 'ffff8e7541210000', cpu: 0, command: 'init' });
    expect(fieldBig(t[0]!.task, 'pid')).toBe(1n);
    expect(fieldBig(t[0]!.task, 'stack')).toBe(0xffffd51540010000n);
    expect(getField(t[0]!.task, 'comm')).toMatchObject({
      string: 'init\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000',
    });
  });

  it('parses list with and without -s', () => {
    const plain = parseList('ffffffffc0226010\nffff8e7542689070\n');
    expect(plain.entries.map((e) => e.address)).toEqual(['ffffffffc0226010', 'ffff8e7542689070']);
    const withS = parseList(
      'ffff8e7542689050\n  id = 4660,\n  name = "vmcore-fixture\\000",\nffff8e7542689150\n  id = 4661,\n  name = "x",\n',
    );
    expect(fieldBig(withS.entries[1]!.value!, 'id')).toBe(4661n);
    expect(parseList('ffff1\nffff2\nlist: duplicate list entry: ffff1').duplicate).toBe('ffff1');
  });
});
