#!/bin/bash
# Interleaved cells of bench/peers-worker.mjs's writefile-existing (32 lanes of writeFile of 4 KiB
# over 512 existing files), each a fresh process under chrt -f 10 (SCHED_FIFO: on a loaded machine
# the plain cells' rates swing 10x). Prints one JSON line per cell: ops, seconds, cpuUs.
#   bench/writefile-ab.sh ab    [OLD=/path/to/older/kaio] : kaio inPlace of OLD, of this tree, and Bun.write
#   bench/writefile-ab.sh ways  : the ways to replace a file (O_TRUNC, inPlace, rename, flush) and Bun.write
#   bench/writefile-ab.sh new   OLD=/path : writefile-new (4 KiB to new files): kaio of OLD, of this tree, bun's
#                                node:fs; each cell in a new directory under DIR (default: one made in
#                                .bench-data/peers-data), removed at the end
# R=rounds (default 3), T=seconds per cell (1.5). Needs root (chrt) and bench/peers.js's data and Bun.
cd "$(dirname "$0")/.." || exit 1
HERE=$(pwd)
BUN=.bench-data/peers/node_modules/@oven/bun-linux-x64/bin/bun
FILES=$(node -e 'const d=process.argv[1];console.log(JSON.stringify(Array.from({length:512},(_, i)=>d+"/f"+i)))' "$HERE/.bench-data/peers-data/existing-4k")
params() { echo '{"files":'"$FILES"',"size":4096,"inFlight":32,"kaioPath":"'"$1"'"}'; }
NEWDIR=${DIR:-$HERE/.bench-data/peers-data/ab-new-$$}
newparams() { d="$NEWDIR/$r-$1"; mkdir -p "$d"; echo '{"size":4096,"inFlight":32,"fresh":true,"dir":"'"$d"'","kaioPath":"'"$2"'"}'; }
newcell() { # name runtime api kaioPath
  if [ "$2" = bun ]; then out=$(chrt -f 10 "$BUN" bench/peers-worker.mjs writefile-new "$3" "${T:-1.5}" "$(newparams "$1" "$4")")
  else out=$(chrt -f 10 node bench/peers-worker.mjs writefile-new "$3" "${T:-1.5}" "$(newparams "$1" "$4")"); fi
  echo "$r $1 $out"
}
cell() { # name runtime api kaioPath
  if [ "$2" = bun ]; then out=$(chrt -f 10 "$BUN" bench/peers-worker.mjs writefile-existing "$3" "${T:-1.5}" "$(params "$4")")
  else out=$(chrt -f 10 node bench/peers-worker.mjs writefile-existing "$3" "${T:-1.5}" "$(params "$4")"); fi
  echo "$r $1 $out"
}
for r in $(seq 1 "${R:-3}"); do
  if [ "$1" = new ]; then
    # old first in odd rounds, new first in even ones
    if [ $((r % 2)) = 1 ]; then newcell old node kaio "${OLD:?OLD=path of the older kaio}"; newcell new node kaio "$HERE"
    else newcell new node kaio "$HERE"; newcell old node kaio "${OLD:?OLD=path of the older kaio}"; fi
    newcell bun bun fsp "$HERE"
  elif [ "$1" = ab ]; then
    cell old node kaio-inplace "${OLD:?OLD=path of the older kaio}"; cell new node kaio-inplace "$HERE"; cell bun bun bun "$HERE"
  else
    for c in fsp kaio kaio-inplace fsp-rename kaio-rename fsp-flush kaio-flush kaio-inplace-flush; do cell $c node $c "$HERE"; done
    cell bun bun bun "$HERE"
  fi
done
[ "$1" = new ] && rm -rf "$NEWDIR"
