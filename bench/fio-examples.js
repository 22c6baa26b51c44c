'use strict';
// fio's own job files through fio and through `kaio bench`, each reduced in
// size and time, in a private temp dir:
//   node bench/fio-examples.js DIR [--only=NAME,...] [--json=OUT.json] [--timeout=30]
// DIR holds *.fio files (e.g. fio's examples/: `git archive HEAD examples | tar -x`).
// Each file is copied with its values reduced, as fio would then read them
// (a job file's own options override the command line's, so the reduction is
// made in the file, not with command-line flags):
//   runtime/timeout -> 1 s, ramp_time/startdelay -> 0, size-like options and
//   io sizes capped at 32 MiB, numjobs at 4, nrfiles at 16, loops at 1, every
//   filename= and directory= pointed into the temp dir;
// a [global] section first sets runtime=1 for jobs that give none. A /dev/
// target is never touched: each one named is replaced by a 32 MiB temp file
// standing for the device (its size is the device's, for jobs without size=).
// For each file it prints: fio ok / fails, kaio ok / refused (with all it
// lacks) / fails, and kaio's IOPS over fio's; then the counts, and the
// options kaio lacks by how many examples each would unlock.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const kaioBin = path.join(__dirname, '..', 'bin', 'kaio');
const arg = (name, dflt) => {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : dflt;
};
const dir = process.argv.slice(2).find((a) => !a.startsWith('--'));
if (!dir) {
  console.error('usage: node bench/fio-examples.js DIR [--only=NAME,...] [--json=OUT.json] [--timeout=30]');
  process.exit(2);
}
const only = arg('only', '') ? arg('only', '').split(',') : [];
const timeoutMs = Number(arg('timeout', 30)) * 1000;
const CAP = 32 * 1024 * 1024;

/** fio's size text to bytes (powers of 1024; a bare number is bytes), or NaN. */
function bytes(text) {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp])?(?:i?b)?$/i.exec(text.trim());
  if (!m) return NaN;
  return Number(m[1]) * (m[2] ? 1024 ** ('kmgtp'.indexOf(m[2].toLowerCase()) + 1) : 1);
}

/** The reduced copy of a job file, and the temp files standing for the devices it named. */
function reduce(text, tmp) {
  const devices = [];
  const stand = (f) => {
    const p = path.join(tmp, f.replace(/^\/+/, '').replace(/[/\\]/g, '_'));
    if (f.startsWith('/dev/') && !devices.includes(p)) devices.push(p);
    return p;
  };
  const out = ['[global]', 'runtime=1', ''];
  for (const raw of text.split('\n')) {
    const code = raw.replace(/[;#].*$/, '').trim();
    const kv = /^([A-Za-z0-9_-]+)\s*=\s*(.*)$/.exec(code);
    if (!kv) {
      out.push(raw);
      continue;
    }
    const [, key, value] = kv;
    switch (key) {
      case 'runtime':
      case 'timeout':
        out.push('runtime=1');
        break;
      case 'ramp_time':
      case 'startdelay':
        out.push(`${key}=0`);
        break;
      case 'size':
      case 'filesize':
      case 'io_size':
      case 'io_limit':
      case 'offset_increment': {
        const b = bytes(value);
        out.push(b > CAP ? `${key}=32m` : raw);
        break;
      }
      case 'numjobs':
        out.push(Number(value) > 4 ? 'numjobs=4' : raw);
        break;
      case 'nrfiles':
        out.push(Number(value) > 16 ? 'nrfiles=16' : raw);
        break;
      case 'loops':
        out.push('loops=1');
        break;
      case 'directory':
        out.push(`directory=${tmp}`);
        break;
      case 'filename':
        out.push(`filename=${value.split(':').map(stand).join(':')}`);
        break;
      default:
        out.push(raw);
    }
  }
  return { text: out.join('\n'), devices };
}

/** Total IOPS (read + write + trim) of a fio-shaped JSON document. */
function iops(doc) {
  let sum = 0;
  for (const j of doc.jobs ?? []) for (const d of ['read', 'write', 'trim']) sum += j[d]?.iops ?? 0;
  return sum;
}

function readJson(file) {
  try {
    const t = fs.readFileSync(file, 'utf8');
    return JSON.parse(t.slice(t.indexOf('{')));
  } catch {
    return undefined;
  }
}

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' });
  return { status: r.status, signal: r.signal, stderr: (r.stderr || '').trim(), stdout: r.stdout || '' };
}

/** What kaio's refusal names: the options it lacks, and the other problems. */
function lacks(stderr) {
  const names = [];
  const m = /does not support: ([^;]*)/.exec(stderr);
  if (m) for (const item of m[1].split(', ')) names.push(item.replace(/ \(.*$/, ''));
  const others = stderr.replace(/^kaio bench: /, '').split('; ').filter((s) => !/does not support: /.test(s));
  for (const o of others) {
    // "FILE [section]: key=value: why": a value kaio cannot take; the engine and rw values are named.
    const kv = /\]: ([A-Za-z0-9_]+)=(.*?): (?:The argument|[A-Z])/.exec(o);
    if (kv) names.push(/^(ioengine|rw|readwrite|verify)$/.test(kv[1]) ? `${kv[1]}=${kv[2].trim().split(/[:\s]/)[0]}` : `${kv[1]} (value)`);
    else names.push(o.slice(0, 80));
  }
  return [...new Set(names)];
}

const files = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.fio'))
  .filter((f) => !only.length || only.includes(f) || only.includes(f.replace(/\.fio$/, '')))
  .sort();
const haveFio = spawnSync('fio', ['--version'], { encoding: 'utf8' }).status === 0;
const rows = [];
for (const f of files) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-fio-ex-'));
  const row = { file: f, fio: '', kaio: '', lacks: [], ratio: NaN, why: '' };
  try {
    const red = reduce(fs.readFileSync(path.join(dir, f), 'utf8'), tmp);
    const layDevices = () => {
      for (const d of red.devices) fs.writeFileSync(d, Buffer.alloc(CAP, 0x5a));
    };
    layDevices();
    if (red.devices.length) row.why = 'devices replaced by temp files; ';
    const job = path.join(tmp, 'job.fio');
    fs.writeFileSync(job, red.text);
    let fioIops = NaN;
    if (haveFio) {
      const r = run('fio', ['--output-format=json', `--output=${path.join(tmp, 'fio.json')}`, job], tmp);
      const doc = readJson(path.join(tmp, 'fio.json'));
      const err = doc?.jobs?.some((j) => j.error);
      row.fio = r.status === 0 && doc && !err ? 'ok' : 'fails';
      if (row.fio === 'ok') fioIops = iops(doc);
      else row.why += `fio: ${r.signal ? `killed (${r.signal})` : (r.stderr.split('\n').find((l) => /fio:|error|err=/.test(l)) ?? r.stderr.split('\n')[0] ?? '').slice(0, 100)}`;
    } else row.fio = 'missing';
    for (const e of fs.readdirSync(tmp)) if (e !== 'job.fio' && e !== 'fio.json') fs.rmSync(path.join(tmp, e), { recursive: true, force: true });
    layDevices();
    const k = run(process.execPath, [kaioBin, 'bench', '--output-format=json', `--output=${path.join(tmp, 'kaio.json')}`, '--eta=never', job], tmp);
    if (k.status === 0) {
      row.kaio = 'ok';
      const doc = readJson(path.join(tmp, 'kaio.json'));
      if (doc && fioIops > 0) row.ratio = iops(doc) / fioIops;
    } else if (k.status === 2) {
      row.kaio = 'refused';
      row.lacks = lacks(k.stderr);
    } else {
      row.kaio = 'fails';
      row.why += `kaio: ${k.signal ? `killed (${k.signal})` : k.stderr.split('\n')[0].slice(0, 120)}`;
    }
    rows.push(row);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  report(rows[rows.length - 1]);
}

function report(r) {
  console.log(
    `${r.file.padEnd(36)} fio ${r.fio.padEnd(7)} kaio ${r.kaio.padEnd(8)}${Number.isNaN(r.ratio) ? '' : ` IOPS ${r.ratio.toFixed(2)}x`}` +
      `${r.lacks.length ? ` lacks: ${r.lacks.join(', ')}` : ''}${r.why && r.kaio !== 'ok' ? `  (${r.why})` : ''}`,
  );
}

const fioOk = rows.filter((r) => r.fio === 'ok');
const count = (list, what) => list.filter((r) => r.kaio === what).length;
console.log('');
console.log(`${rows.length} job files; fio ok ${fioOk.length}, fio fails ${rows.filter((r) => r.fio === 'fails').length}`);
console.log(`of fio's ${fioOk.length}: kaio ok ${count(fioOk, 'ok')}, refused ${count(fioOk, 'refused')}, fails ${count(fioOk, 'fails')}`);
const ratios = fioOk.map((r) => r.ratio).filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
if (ratios.length) console.log(`IOPS kaio/fio where both ran: median ${ratios[Math.floor(ratios.length / 2)].toFixed(2)}x (${ratios.length} files)`);
const tally = new Map();
for (const r of fioOk) for (const n of new Set(r.lacks)) tally.set(n, (tally.get(n) ?? 0) + 1);
const alone = new Map();
for (const r of fioOk) {
  const s = [...new Set(r.lacks)];
  if (s.length === 1) alone.set(s[0], (alone.get(s[0]) ?? 0) + 1);
}
console.log('lacking, in how many of the fio-ok files (and how many lack only that):');
for (const [n, c] of [...tally].sort((a, b) => b[1] - a[1])) console.log(`  ${n}: ${c} (${alone.get(n) ?? 0})`);
const out = arg('json', '');
if (out) fs.writeFileSync(out, `${JSON.stringify(rows, null, 2)}\n`);
