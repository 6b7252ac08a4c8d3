#!/usr/bin/env bash
# vmcore engine: the real `crash` and REAL kernel crash dumps made under QEMU by the fixture factory
# (test/fixtures/vmcore/make-fixtures.sh). The factory caches by kernel ABI under
# $KTRIAGE_CACHE/fixtures/<abi>/ and only rebuilds what is missing or out of date; a fresh machine
# needs about 10 minutes (packages + the 850 MB -dbg download and vmlinux extraction dominate).
set -euo pipefail
cd "$(dirname "$0")/../.."
export KTRIAGE_CACHE="${KTRIAGE_CACHE:-$HOME/.cache/ktriage}"
start=$(date +%s)
# The kernel ABI the whole suite was last validated on. The factory picks the archive's newest ABI
# when this is unset; on 6.1.0-56 (6.1.192) one test still fails: the unlock-thread truth claims the
# waiting task sits in __flush_work, which 6.1.192 no longer calls out of line. Remove this pin once
# the suite passes there. Both ABIs are in Debian's archive today.
export KTRIAGE_KERNEL_ABI="${KTRIAGE_KERNEL_ABI:-6.1.0-50}"
# The factory prints the fixture directory on its last line of stdout.
dir="$(nice -n 10 bash test/fixtures/vmcore/make-fixtures.sh | tail -n 1)"
if [ ! -f "$dir/bug/truth.json" ]; then
  echo "30-vmcore: the fixture factory did not produce $dir/bug/truth.json" >&2
  exit 1
fi
echo "30-vmcore: fixtures in $dir ($(($(date +%s) - start)) s)"
if [ -n "${KTRIAGE_CI_ENV:-}" ]; then
  echo "export KTRIAGE_VMCORE_FIXTURES='$dir'" >>"$KTRIAGE_CI_ENV"
fi
