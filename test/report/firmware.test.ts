// Firmware (TF-A, U-Boot, coreboot, depthcharge) and test harnesses print bare `INFO:`/`WARNING:`
// lines into the same console log as the kernel: they are not kernel reports, while the kernel's own
// reports (with a console prefix, a known format or a stack) still are.
import { describe, expect, it } from 'vitest';
import { parseLog } from '../../src/report/index.ts';

const kernelWarning = [
  '[    5.100000] WARNING: CPU: 1 PID: 42 at drivers/foo/bar.c:123 bar_probe+0x12/0x40',
  '[    5.100001] Modules linked in:',
  '[    5.100002] CPU: 1 PID: 42 Comm: kworker/1:0 Not tainted 6.1.0 #1',
  '[    5.100003] RIP: 0010:bar_probe+0x12/0x40',
  '[    5.100004] Call Trace:',
  '[    5.100005]  <TASK>',
  '[    5.100006]  really_probe+0x15c/0x34e',
  '[    5.100007]  driver_probe_device+0x9c/0xd0',
  '[    5.100008]  </TASK>',
  '[    5.100009] ---[ end trace 0000000000000000 ]---',
];

describe('firmware and harness lines', () => {
  it('drops bare lines before the kernel starts and after its prefixed output', () => {
    const log = [
      'U-Boot 2023.01 (Jan 01 2023 - 00:00:00 +0000)',
      'WARNING: Caches not enabled',
      'INFO:    BL31: Initializing runtime services',
      'Starting kernel ...',
      '[    0.000000] Linux version 6.1.0 (builder@host) #1 SMP',
      ...kernelWarning,
      '[   20.000000] reboot: Restarting system',
      'coreboot-v1.9308 ramstage starting (log level: 8)...',
      "WARNING: can't convert coreboot GPIOs, 'lid' won't be resampled at runtime!",
      'INFO: install_deps skipped',
      'AGESA TYPE 17 DMI INFO:',
      'Handle: 1',
    ].join('\n');
    const reps = parseLog(log);
    expect(reps.map((r) => r.title)).toEqual(['WARNING in bar_probe']);
  });

  it('drops them in a log the kernel never got to', () => {
    const log = ['coreboot ramstage starting', 'WARNING: RO_VPD is uninitialized or empty.', 'Normal boot.'];
    expect(parseLog(log.join('\n'))).toEqual([]);
  });

  it('keeps an unprefixed report that has a kernel format or a stack', () => {
    const unprefixed = kernelWarning.map((l) => l.replace(/^\[ *[\d.]+\] /, ''));
    expect(parseLog(unprefixed.join('\n')).map((r) => r.title)).toEqual(['WARNING in bar_probe']);
    const withStack = [
      'WARNING: odd thing happened',
      'Call Trace:',
      ' [<ffffffff81000000>] foo_bar+0x1/0x2',
      ' [<ffffffff81000010>] baz_qux+0x3/0x4',
    ];
    expect(parseLog(withStack.join('\n'))).toHaveLength(1);
  });

  it('keeps a cut `INFO:` line when no kernel output follows (syzkaller: INFO: corrupted)', () => {
    const [r] = parseLog('INFO:\n');
    expect(r?.title).toBe('INFO: corrupted');
    expect(r?.corrupted).toBe(true);
  });
});
