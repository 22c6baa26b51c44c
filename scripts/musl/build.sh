#!/bin/sh
# The musl prebuilds, run inside the Debian build root by scripts/prebuild.js (musl-tools, and
# musl-dev:arm64 next to the aarch64 cross g++, installed there): kaio.musl.node for one
# architecture, and the two check programs that prebuild.js then runs under musl's dynamic
# linker (musl-load-check, musl-runtime-check). Debian has musl's C library and headers but no
# C++ standard library built for musl, so this compiles with g++ against musl's C headers in
# front of Debian's libstdc++ headers (with native/musl/compat.h for the two glibc names those
# headers use), and links libstdc++ and libgcc in statically (-Wl,--exclude-libs,ALL keeps
# them private) with musl's libc as the only NEEDED library, under Alpine's name for it.
#
#   build.sh x64|arm64 REPO OUT NODE_INCLUDE NODE_ADDON_API_INCLUDE SOURCE...
set -eu
ARCH=$1; REPO=$2; OUT=$3; NODEINC=$4; NAI=$5; shift 5
case $ARCH in
  x64)
    MARCH=x86_64; TRIPLE=x86_64-linux-gnu; CXX=g++; CC=gcc; STRIP=strip; NM=nm
    GCCV=$($CXX -dumpversion | cut -d. -f1)
    G=/usr/lib/gcc/$TRIPLE/$GCCV
    CXXINC="-isystem /usr/include/c++/$GCCV -isystem /usr/include/$TRIPLE/c++/$GCCV -isystem /usr/include/c++/$GCCV/backward"
    CXXCONFIG=/usr/include/$TRIPLE/c++/$GCCV/bits/c++config.h
    KERNEL=/usr/include; KERNEL_ASM=/usr/include/$TRIPLE/asm ;;
  arm64)
    MARCH=aarch64; TRIPLE=aarch64-linux-gnu; CXX=$TRIPLE-g++; CC=$TRIPLE-gcc; STRIP=$TRIPLE-strip; NM=$TRIPLE-nm
    GCCV=$($CXX -dumpversion | cut -d. -f1)
    G=/usr/lib/gcc-cross/$TRIPLE/$GCCV
    CXXINC="-isystem /usr/$TRIPLE/include/c++/$GCCV -isystem /usr/$TRIPLE/include/c++/$GCCV/$TRIPLE -isystem /usr/$TRIPLE/include/c++/$GCCV/backward"
    CXXCONFIG=/usr/$TRIPLE/include/c++/$GCCV/$TRIPLE/bits/c++config.h
    KERNEL=/usr/$TRIPLE/include; KERNEL_ASM=/usr/$TRIPLE/include/asm ;;
  *) echo "build.sh: no musl build for $ARCH" >&2; exit 2 ;;
esac
M=/usr/lib/$MARCH-linux-musl
LIBC=libc.musl-$MARCH.so.1
W=$OUT/work
rm -rf "$W"; mkdir -p "$W/shim/bits" "$W/kinc" "$W/obj" "$W/lib"
# The kernel's uapi headers (linux/io_uring.h...) come after musl's own.
for d in linux asm-generic mtd; do ln -s "$KERNEL/$d" "$W/kinc/$d"; done
ln -s "$KERNEL_ASM" "$W/kinc/asm"
# libstdc++'s configuration, less the pthread_*clock* calls that glibc has and musl lacks.
grep -v 'define _GLIBCXX_USE_PTHREAD_[A-Z_]*CLOCK' "$CXXCONFIG" > "$W/shim/bits/c++config.h"
CINC="-nostdinc -isystem $G/include -isystem /usr/include/$MARCH-linux-musl -isystem $G/include-fixed -idirafter $W/kinc"
INC="-nostdinc -include $REPO/native/musl/compat.h -isystem $W/shim $CXXINC $(echo "$CINC" | sed 's/^-nostdinc //')"
FLAGS="-std=c++17 -O2 -fPIC -fexceptions -Wall -Wextra -Werror"
DEFS="-DNAPI_VERSION=8 -DNODE_ADDON_API_DISABLE_DEPRECATED -DNODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"
for f in "$@" native/musl/compat.cc; do
  # shellcheck disable=SC2086
  $CXX $INC -I"$NODEINC" -I"$NAI" $FLAGS $DEFS -c "$REPO/$f" -o "$W/obj/$(echo "$f" | tr / _).o"
done
# Alpine's musl is /lib/libc.musl-<arch>.so.1 (Debian's has no soname): NEEDED says that name.
ln -s "$M/libc.so" "$W/lib/$LIBC"
RUNTIME="$G/libstdc++.a $G/libgcc_eh.a $G/libgcc.a -L$W/lib -l:$LIBC"
# shellcheck disable=SC2086
$CXX -shared -nostdlib -Wl,--gc-sections -Wl,--exclude-libs,ALL -Wl,-z,noexecstack -o "$OUT/kaio.musl.node" \
  "$M/crti.o" "$G/crtbeginS.o" "$W"/obj/*.o $RUNTIME "$G/crtendS.o" "$M/crtn.o"
EXE="-nostdlib -pie -Wl,--gc-sections -Wl,-z,noexecstack -Wl,--dynamic-linker=/lib/ld-musl-$MARCH.so.1"
# The runtime check: kaio's core (no N-API, no libuv) and the same runtime, as a musl executable.
CORE=$(for o in "$W"/obj/native_core_*.o; do case $o in *offload*|*poller*) ;; *) echo "$o" ;; esac; done)
# shellcheck disable=SC2086
$CXX $INC $FLAGS -c "$REPO/scripts/musl/runtime-check.cc" -o "$W/runtime-check.o"
# shellcheck disable=SC2086
$CXX $EXE -o "$OUT/musl-runtime-check" "$M/Scrt1.o" "$M/crti.o" "$G/crtbeginS.o" "$W/runtime-check.o" \
  "$W/obj/native_musl_compat.cc.o" $CORE $RUNTIME "$G/crtendS.o" "$M/crtn.o"
# The loader check: stubs for what Node itself gives an addon, then dlopen(RTLD_NOW).
$NM -D --undefined-only "$OUT/kaio.musl.node" | awk '{print $NF}' | grep -E '^(napi_|node_api_|uv_)' |
  sed 's/.*/void &(void) { __builtin_trap(); }/' > "$W/node-symbols.c"
# shellcheck disable=SC2086
$CC $CINC -O2 -fPIC -Wall -Wextra -Werror -c "$REPO/scripts/musl/load-check.c" -o "$W/load-check.o"
# shellcheck disable=SC2086
$CC $CINC -O2 -fPIC -Wall -Wextra -Werror -c "$W/node-symbols.c" -o "$W/node-symbols.o"
# shellcheck disable=SC2086
$CC $EXE -rdynamic -o "$OUT/musl-load-check" "$M/Scrt1.o" "$M/crti.o" "$G/crtbeginS.o" "$W/load-check.o" "$W/node-symbols.o" \
  -L"$W/lib" -l:"$LIBC" "$G/libgcc.a" "$G/crtendS.o" "$M/crtn.o"
$STRIP "$OUT/kaio.musl.node"
rm -rf "$W"
