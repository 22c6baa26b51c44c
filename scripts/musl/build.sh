#!/bin/sh
# The musl prebuild, run inside the Debian build root by scripts/prebuild.js (musl-tools
# installed there): kaio.musl.node for linux-x64, and the runtime check program that
# scripts/musl/check.js runs. Debian has musl's C library and headers but no C++ standard
# library built for musl, so this compiles with g++ against musl's C headers in front of
# Debian's libstdc++ headers (with native/musl/compat.h for the two glibc names those headers
# use), and links libstdc++ and libgcc in statically (-Wl,--exclude-libs,ALL keeps them
# private) with musl's libc as the only NEEDED library, under Alpine's name for it.
#
#   build.sh REPO OUT NODE_INCLUDE NODE_ADDON_API_INCLUDE SOURCE...
set -eu
REPO=$1; OUT=$2; NODEINC=$3; NAI=$4; shift 4
GCCV=$(g++ -dumpversion | cut -d. -f1)
TRIPLE=x86_64-linux-gnu
G=/usr/lib/gcc/$TRIPLE/$GCCV
M=/usr/lib/x86_64-linux-musl
W=$OUT/work
rm -rf "$W"; mkdir -p "$W/shim/bits" "$W/kinc" "$W/obj" "$W/lib"
# The kernel's uapi headers (linux/io_uring.h...) come after musl's own.
for d in linux asm-generic mtd; do ln -s "/usr/include/$d" "$W/kinc/$d"; done
ln -s "/usr/include/$TRIPLE/asm" "$W/kinc/asm"
# libstdc++'s configuration, less the pthread_*clock* calls that glibc has and musl lacks.
grep -v 'define _GLIBCXX_USE_PTHREAD_[A-Z_]*CLOCK' "/usr/include/$TRIPLE/c++/$GCCV/bits/c++config.h" > "$W/shim/bits/c++config.h"
INC="-nostdinc -include $REPO/native/musl/compat.h -isystem $W/shim -isystem /usr/include/c++/$GCCV
  -isystem /usr/include/$TRIPLE/c++/$GCCV -isystem /usr/include/c++/$GCCV/backward -isystem $G/include
  -isystem /usr/include/x86_64-linux-musl -isystem $G/include-fixed -idirafter $W/kinc"
FLAGS="-std=c++17 -O2 -fPIC -fexceptions -Wall -Wextra -Werror"
DEFS="-DNAPI_VERSION=8 -DNODE_ADDON_API_DISABLE_DEPRECATED -DNODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"
for f in "$@" native/musl/compat.cc; do
  # shellcheck disable=SC2086
  g++ $INC -I"$NODEINC" -I"$NAI" $FLAGS $DEFS -c "$REPO/$f" -o "$W/obj/$(echo "$f" | tr / _).o"
done
# Alpine's musl is /lib/libc.musl-x86_64.so.1 (Debian's has no soname): NEEDED says that name.
ln -s "$M/libc.so" "$W/lib/libc.musl-x86_64.so.1"
RUNTIME="$G/libstdc++.a $G/libgcc_eh.a $G/libgcc.a -L$W/lib -l:libc.musl-x86_64.so.1"
# shellcheck disable=SC2086
g++ -shared -nostdlib -Wl,--gc-sections -Wl,--exclude-libs,ALL -Wl,-z,noexecstack -o "$OUT/kaio.musl.node" \
  "$M/crti.o" "$G/crtbeginS.o" "$W"/obj/*.o $RUNTIME "$G/crtendS.o" "$M/crtn.o"
# The runtime check: kaio's core (no N-API) and the same runtime, as a musl executable.
CORE=$(for o in "$W"/obj/native_core_*.o; do case $o in *offload*|*poller*) ;; *) echo "$o" ;; esac; done)
# shellcheck disable=SC2086
g++ $INC $FLAGS -c "$REPO/scripts/musl/runtime-check.cc" -o "$W/runtime-check.o"
# shellcheck disable=SC2086
g++ -nostdlib -pie -Wl,--gc-sections -Wl,-z,noexecstack -Wl,--dynamic-linker=/lib/ld-musl-x86_64.so.1 \
  -o "$OUT/musl-runtime-check" "$M/Scrt1.o" "$M/crti.o" "$G/crtbeginS.o" "$W/runtime-check.o" \
  "$W/obj/native_musl_compat.cc.o" $CORE $RUNTIME "$G/crtendS.o" "$M/crtn.o"
strip "$OUT/kaio.musl.node"
rm -rf "$W"
# The loader check: stubs for what Node itself gives an addon, then dlopen(RTLD_NOW).
nm -D --undefined-only "$OUT/kaio.musl.node" | awk '{print $NF}' | grep -E '^(napi_|node_api_|uv_)' |
  sed 's/.*/void &(void) { __builtin_trap(); }/' > "$OUT/node-symbols.c"
musl-gcc -O2 -Wall -Wextra -Werror -rdynamic -o "$OUT/musl-load-check" "$REPO/scripts/musl/load-check.c" "$OUT/node-symbols.c"
rm -f "$OUT/node-symbols.c"
