#!/bin/bash
# A stand-in for `crash -s VMLINUX VMCORE` for the driver's unit tests: reads commands on stdin
# like crash does with a pipe, answers some of them in known ways. FAKE_CRASH_MODE picks a startup
# behaviour. Not a crash emulator: only what framing, errors and timeouts need.
case "${FAKE_CRASH_MODE:-ok}" in
  mismatch) echo "crash: vmlinux and $3 do not match!"; exit 1 ;;
  novmlinux) echo "crash: $2: no debugging data available"; exit 1 ;;
  notdump) echo "crash: $3: not a supported file format"; exit 1 ;;
  hang) sleep 600 & wait $!; exit 1 ;;
  die) echo "crash: something else went wrong" >&2; exit 3 ;;
esac
[ "${FAKE_CRASH_MODE:-ok}" = inconsistent ] && echo "WARNING: kernel version inconsistency between vmlinux and dumpfile"
echo "WARNING: active task ffff888c41212100 on cpu 0 not found in PID hash"
[ -n "$FAKE_CRASH_ARGS" ] && printf '%s\n' "$@" >"$FAKE_CRASH_ARGS"
trap 'echo "interrupted"' INT
while IFS= read -r line; do
  case "$line" in
    "echo "*) echo "${line#echo }" ;;
    "set scroll off") echo "scroll: off (none)" ;;
    exit) exit 0 ;;
    slow) sleep 600 ;;
    stubborn) trap '' INT; sleep 600 ;;
    orphan) (trap '' INT; exec sleep 600) & wait $! ;;
    chunky) printf 'part1'; sleep 0.3; printf ' part2\n'; sleep 0.3; printf 'line2\n' ;;
    big) for i in $(seq 1 20000); do echo "line $i 0123456789abcdef0123456789abcdef"; done ;;
    bad) echo "crash: command not found: bad" ;;
    "struct "*) echo "struct: invalid data structure reference: ${line#struct }" ;;
    "p "*) echo "p: gdb request failed: $line" ;;
    spawn) (sleep 600 &) ; echo "spawned" ;;
    die) exit 7 ;;
    *) echo "out: $line" ;;
  esac
done
