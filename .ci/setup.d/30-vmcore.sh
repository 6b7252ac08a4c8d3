#!/usr/bin/env bash
# vmcore engine: the real `crash` and REAL kernel crash dumps made under QEMU by the fixture factory
# (test/fixtures/vmcore/make-fixtures.sh). The factory caches by kernel ABI under
# $KTRIAGE_CACHE/fixtures/<abi>/ and only rebuilds what is missing or out of date; a fresh machine
# needs about 10 minutes (packages + the 850 MB -dbg download and vmlinux extraction dominate).
set -euo pipefail
cd "$(dirname "$0")/../.."
export KTRIAGE_CACHE="${KTRIAGE_CACHE:-$HOME/.cache/ktriage}"
start=$(date +%s)
# The kernel ABI is the archive's newest (the factory discovers it: old ABIs leave the archive);
# KTRIAGE_KERNEL_ABI=6.1.0-NN in the environment pins one for a local run.
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
