'use strict';
// User-space instructions per op of bench/api-loop.js's loops, counted by
// callgrind (load-independent, unlike wall-clock or CPU time): each loop runs
// twice, N and 3N ops after the same warm-up, and per op = the difference /
// 2N, so start-up and warm-up cancel. Needs valgrind.
//   node bench/instructions.js [--ops=100000] [--repeat=1] [--loops=pagecache-promise,nop-promise,pagecache-batch,nop-batch]
// With KAIO_T_IO_URING set, t/io_uring's own loop is counted the same way
// (the difference of a 1 s and a 3 s run over the ops it reported), for the
// ratio of user-space work per op.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const arg = (name, dflt) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? dflt : a.slice(name.length + 3);
};
const N = Number(arg('ops', '100000'));
const repeat = Number(arg('repeat', '1'));
const loops = arg('loops', 'pagecache-promise,nop-promise,pagecache-batch,nop-batch').split(',');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-instr-'));
const file = path.join(dir, 'data');
// 64 MiB of page cache (written here, so it is cached).
{
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(1 << 20, 0x5a);
  for (let i = 0; i < 64; i++) fs.writeSync(fd, chunk);
  fs.closeSync(fd);
}

/** Total instructions ("summary:" / "totals:" line) of one callgrind run. */
function callgrind(cmd, args, env) {
  const out = path.join(dir, `cg.${process.pid}.${Date.now()}`);
  const r = spawnSync('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, cmd, ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.slice(-2000)}`);
  const text = fs.readFileSync(out, 'utf8');
  fs.rmSync(out);
  const m = /^(?:summary|totals): (\d+)/m.exec(text);
  if (!m) throw new Error('no totals in callgrind output');
  return { ir: Number(m[1]), stdout: r.stdout };
}

function kaioLoop(loop, ops) {
  return callgrind(process.execPath, ['--no-concurrent-recompilation', path.join(__dirname, 'api-loop.js'), loop, '1', file], {
    KAIO_LOOP_OPS: String(ops),
  }).ir;
}

const rows = [];
for (const loop of loops) {
  const per = [];
  for (let i = 0; i < repeat; i++) per.push(Math.round((kaioLoop(loop, 3 * N) - kaioLoop(loop, N)) / (2 * N)));
  rows.push([loop, per.join(' / ')]);
  console.error(`${loop}: ${per.join(' / ')}`);
}

const tio = process.env.KAIO_T_IO_URING;
if (tio && fs.existsSync(tio)) {
  // t/io_uring is time-bound: count its ops from its per-second lines.
  const run = (flags, seconds) => {
    const r = callgrind(tio, [...flags, `-r${seconds}`, file], {});
    const unit = { M: 1e6, K: 1e3, '': 1 };
    const ops = [...r.stdout.matchAll(/^IOPS=([\d.]+)([MK]?),/gm)].reduce((a, m) => a + Number(m[1]) * unit[m[2]], 0);
    return { ir: r.ir, ops };
  };
  for (const [name, flags] of [
    ['t/io_uring page cache -d32 -s8 -c8 -B1 -F1', ['-p0', '-d32', '-s8', '-c8', '-B1', '-F1', '-O0', '-n1']],
    ['t/io_uring NOP -d128 -s32 -c32', ['-N1', '-d128', '-s32', '-c32', '-n1']],
  ]) {
    const a = run(flags, 1);
    const b = run(flags, 3);
    const per = Math.round((b.ir - a.ir) / (b.ops - a.ops));
    rows.push([name, String(per)]);
    console.error(`${name}: ${per}`);
  }
}

fs.rmSync(dir, { recursive: true, force: true });
console.log(`| loop | user-space instructions per op (callgrind, N = ${N}) |`);
console.log('|---|---:|');
for (const [a, b] of rows) console.log(`| ${a} | ${b} |`);
