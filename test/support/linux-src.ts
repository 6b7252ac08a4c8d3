// Where the tests find Debian's linux-source-6.1 tree: $KTRIAGE_LINUX_SRC (set by
// .ci/setup.d/40-linux-source.sh), else the newest extracted copy in the ktriage cache.
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

/** The kernel source tree for tests, or null when none is on this machine. */
export function linuxSrc(): string | null {
  if (process.env.KTRIAGE_LINUX_SRC) return process.env.KTRIAGE_LINUX_SRC;
  const cache = process.env.KTRIAGE_CACHE || path.join(homedir(), '.cache', 'ktriage');
  if (!existsSync(cache)) return null;
  const d = readdirSync(cache).find((x) => x.startsWith('linux-source-'));
  return d ? path.join(cache, d) : null;
}
