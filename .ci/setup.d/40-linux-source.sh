#!/usr/bin/env bash
# Kernel source for the source-index tests and bench: Debian's linux-source-6.1, extracted once per
# package version under $KTRIAGE_CACHE, plus cscope (the tests cross-check direct callers with it).
# Idempotent: a second run with the same package version only re-exports the path.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
: "${KTRIAGE_CACHE:=$HOME/.cache/ktriage}"
mkdir -p "$KTRIAGE_CACHE"

need=()
dpkg-query -W -f='${Status}' linux-source-6.1 2>/dev/null | grep -q 'ok installed' || need+=(linux-source-6.1)
command -v cscope >/dev/null 2>&1 || need+=(cscope)
command -v xz >/dev/null 2>&1 || need+=(xz-utils)
if [ "${#need[@]}" -gt 0 ]; then
  apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=900 "${need[@]}"
fi

version=$(dpkg-query -W -f='${Version}' linux-source-6.1)
tarball=/usr/src/linux-source-6.1.tar.xz
[ -f "$tarball" ] || { echo "40-linux-source: $tarball missing after installing linux-source-6.1" >&2; exit 1; }
dest="$KTRIAGE_CACHE/linux-source-$version"
if [ ! -f "$dest/.ktriage-extracted" ]; then
  echo "40-linux-source: extracting $tarball ($version) into $dest"
  rm -rf "$dest.tmp"
  mkdir -p "$dest.tmp"
  # The tarball holds one top-level directory (linux-source-6.1/); strip it so $dest is the tree root.
  nice tar -xJf "$tarball" -C "$dest.tmp" --strip-components=1
  rm -rf "$dest"
  mv "$dest.tmp" "$dest"
  touch "$dest/.ktriage-extracted"
fi
[ -f "$dest/Makefile" ] && [ -d "$dest/fs/nfs" ] || { echo "40-linux-source: $dest does not look like a kernel tree" >&2; exit 1; }
if [ -n "${KTRIAGE_CI_ENV:-}" ]; then
  echo "export KTRIAGE_LINUX_SRC=$dest" >>"$KTRIAGE_CI_ENV"
fi
echo "40-linux-source: KTRIAGE_LINUX_SRC=$dest"
