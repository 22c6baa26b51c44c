#!/bin/bash
# The WAL cells of bench/peers.js (64 producers, 256 B records, write + fdatasync group commit),
# interleaved, rotating the order; one JSON line per cell: ops, seconds, cpuUs, commits.
#   D=dir (default .bench-data/peers-data) R=rounds (6) T=seconds (1.5) bench/wal-cells.sh
cd "$(dirname "$0")/.." || exit 1
D=${D:-$(pwd)/.bench-data/peers-data}
BUN=.bench-data/peers/node_modules/@oven/bun-linux-x64/bin/bun
DENO=.bench-data/peers/node_modules/@deno/linux-x64-glibc/deno
P='{"log":"'$D'/wal-cells.log","producers":64,"record":256,"kaioPath":"'$(pwd)'"}'
cells=(nodefh kaiofh kaioring bunfh denofh deno)
cmd() { case $1 in
  nodefh) node bench/peers-worker.mjs wal fsp-fh "$T" "$P";;
  kaiofh) node bench/peers-worker.mjs wal kaio-fh "$T" "$P";;
  kaioring) node bench/peers-worker.mjs wal kaio-ring "$T" "$P";;
  bunfh) "$BUN" bench/peers-worker.mjs wal fsp-fh "$T" "$P";;
  denofh) "$DENO" run --allow-all --quiet bench/peers-worker.mjs wal fsp-fh "$T" "$P";;
  deno) "$DENO" run --allow-all --quiet bench/peers-worker.mjs wal deno "$T" "$P";;
esac; }
T=${T:-1.5}
for r in $(seq 1 "${R:-6}"); do
  for k in 0 1 2 3 4 5; do c=${cells[$(( (k + r) % 6 ))]}; rm -f "$D/wal-cells.log"
    echo "$r $c $(cmd $c)"; done
done
rm -f "$D/wal-cells.log"
