#!/usr/bin/env bash
# Builds the addon with AddressSanitizer + UndefinedBehaviorSanitizer into
# build-asan/ (the normal build/ is left alone) and runs the test suite (or the
# command given) against it. The loader (node-gyp-build) picks the sanitized
# addon through KAIO_PREBUILD; lib/ is unchanged.
#
#   scripts/test-asan.sh                 # build + npm test under ASan/UBSan
#   scripts/test-asan.sh node x.js       # build + any command under ASan/UBSan
#   KAIO_ASAN_NOBUILD=1 scripts/test-asan.sh ...   # reuse build-asan/
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/build-asan"
cc="${CC:-gcc}"

if [[ -z "${KAIO_ASAN_NOBUILD:-}" || ! -f "$out/build/Release/kaio.node" ]]; then
  mkdir -p "$out"
  # Same targets as binding.gyp, sources pointed back at ../native.
  node -e '
    const fs = require("fs"), path = require("path");
    const gyp = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    for (const t of gyp.targets) t.sources = t.sources.map((s) => path.join("..", s));
    fs.writeFileSync(process.argv[2], JSON.stringify(gyp, null, 2));
  ' "$root/binding.gyp" "$out/binding.gyp"
  # Use the same Node headers npm install used (e.g. nodedir=/usr in .npmrc).
  nodedir="${npm_config_nodedir:-$(npm config get nodedir 2>/dev/null || true)}"
  gypargs=()
  if [[ -n "$nodedir" && "$nodedir" != undefined && "$nodedir" != null ]]; then gypargs=(--nodedir="$nodedir"); fi
  san="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -g"
  (cd "$out" && CFLAGS="$san" CXXFLAGS="$san" LDFLAGS="-fsanitize=address,undefined" \
     "$root/node_modules/.bin/node-gyp" rebuild "${gypargs[@]}" >"$out/build.log" 2>&1) \
    || { tail -40 "$out/build.log"; exit 1; }
fi

asan="$($cc -print-file-name=libasan.so)"
ubsan="$($cc -print-file-name=libubsan.so)"
[[ -f "$asan" && -f "$ubsan" ]] || { echo "libasan/libubsan not found ($asan, $ubsan)" >&2; exit 1; }

export KAIO_PREBUILD="$out"
export KAIO_SANITIZED=1
export LD_PRELOAD="$asan:$ubsan${LD_PRELOAD:+:$LD_PRELOAD}"
# Node itself leaks at exit (detect_leaks=0). allow_user_segv_handler=0: ASan keeps
# SIGSEGV for itself so a crash prints its stack (Node otherwise installs its own
# handler for WebAssembly traps and the crash is silent).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:halt_on_error=1:abort_on_error=1:allow_user_segv_handler=0:handle_segv=1:detect_stack_use_after_return=0:print_summary=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

cd "$root"
if [[ $# -eq 0 ]]; then
  # As npm test's pretest does: the tests run from dist-test/.
  "$root/node_modules/.bin/tsc" -b "$root/test/tsconfig.json"
  set -- "$root/node_modules/.bin/mocha" --require "$root/scripts/asan-skips.js"
fi
exec "$@"
