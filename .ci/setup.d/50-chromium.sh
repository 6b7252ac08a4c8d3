#!/usr/bin/env bash
# Dashboard browser tests (test/server/pages/) drive Debian's chromium through playwright-core.
# Idempotent: installs the package only when it is missing, then tells the tests where it is.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! [ -x /usr/bin/chromium ]; then
  apt-get install -y --no-install-recommends chromium fonts-dejavu-core
fi
/usr/bin/chromium --version
if [ -n "${KTRIAGE_CI_ENV:-}" ]; then
  echo "export KTRIAGE_CHROMIUM=/usr/bin/chromium" >>"$KTRIAGE_CI_ENV"
fi
