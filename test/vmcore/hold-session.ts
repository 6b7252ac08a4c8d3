// Child process for session.test.ts: opens a session on the fake crash, prints crash's pid, waits
// to be killed by a signal. The test checks that crash's process group died with it.
import { CrashSession } from '../../src/vmcore/session.ts';

const [fake, vmlinux, vmcore] = process.argv.slice(2);
const s = await CrashSession.open({
  vmlinux: vmlinux!,
  vmcore: vmcore!,
  crashBinary: fake!,
  skipPreflight: true,
});
await s.run('spawn');
process.stdout.write(`${s.pid}\n`);
setInterval(() => {}, 1000);
