#!/usr/bin/env node
'use strict';
// Long fuzz runs: npm run fuzz -- --runs=100000 --seed=7 [--jobs=2] [--log=dir]
// Each job runs test/fuzz/child.js in its own process with seed, seed+1, ...
// and reports crashes (signal), hangs and property failures with the steps of
// the failing run (the log file keeps every step, written synchronously).
// Replay one failing case: KAIO_FUZZ_PATH=<path> node test/fuzz/child.js <seed> <runs>
// Env: KAIO_KNOWN_ALL=1 also generates the values of known findings.
// Filesystem faults instead (test/fuzz/faults.js): --faults=enospc (two small
// tmpfs mounts, needs root) or --faults=fsize (--fsize=BYTES, default 200000:
// each job runs under prlimit), e.g. npm run fuzz -- --faults=enospc --runs=2000
const cp = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const opt = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const runs = Number(opt.runs || process.env.KAIO_FUZZ_RUNS || 5000);
const seed = Number(opt.seed || process.env.KAIO_FUZZ_SEED || Date.now() % 1e9);
const jobs = Number(opt.jobs || 1);
const logDir = opt.log || fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-fuzz-'));
const per = Math.ceil(runs / jobs);
let failed = 0;
let done = 0;
console.log(`fuzz: ${runs} runs, seed ${seed}${jobs > 1 ? `..${seed + jobs - 1}` : ''}, ${jobs} job(s), logs in ${logDir}`);
for (let j = 0; j < jobs; j++) {
  const s = seed + j;
  const log = path.join(logDir, `seed-${s}.log`);
  const t0 = Date.now();
  const faults = opt.faults;
  const child = faults
    ? cp.spawn(faults === 'fsize' ? 'prlimit' : process.execPath, [...(faults === 'fsize' ? [`--fsize=${Number(opt.fsize || 200000)}`, process.execPath] : []), path.join(__dirname, 'faults.js'), faults, String(s), String(per)], { stdio: ['ignore', 'pipe', 'inherit'] })
    : cp.spawn(process.execPath, [path.join(__dirname, 'child.js'), String(s), String(per), log], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.on('close', (status, signal) => {
    let r = {};
    try { r = JSON.parse(out.trim().split('\n').pop()); } catch { /* crashed */ }
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    if (r.skipped) {
      console.log(`seed ${s}: skipped: ${r.skipped}`);
    } else if (status === 0 && !signal && !r.failed) {
      console.log(`seed ${s}: ${r.numRuns} runs passed in ${secs} s`);
    } else {
      failed++;
      console.log(`seed ${s}: FAILED (${signal ? `signal ${signal}` : `exit ${status}`}) after ${secs} s`);
      if (r.error) console.log(r.error.split('\n').slice(0, 4).join('\n'));
      if (r.unexpected) console.log(r.unexpected.join('\n'));
      if (r.path) console.log(`replay: KAIO_FUZZ_PATH=${r.path} node test/fuzz/child.js ${s} ${per}`);
      if (r.steps) console.log(`last steps:\n  ${r.steps.join('\n  ')}`);
      const steps = !faults && fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : [];
      const from = steps.map((l) => l.startsWith('--- run')).lastIndexOf(true);
      console.log(`last run's steps (${log}):\n  ${steps.slice(from).slice(-40).join('\n  ')}`);
    }
    if (++done === jobs) process.exitCode = failed ? 1 : 0;
  });
}
