// `kaio bench ...` and `kaio probe`: the command behind bin/kaio.
import { probe } from '../probe';
import { runJob, type BenchResult } from './engine';
import { parseArgs, USAGE } from './options';

function si(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(0);
}

function kib(n: number): string {
  return `${n >= 0 ? '+' : ''}${(n / 1024).toFixed(0)} KiB`;
}

export function formatResult(r: BenchResult): string {
  const j = r.job;
  const lines = [
    `kaio bench: rw=${j.rw} bs=${j.bs} iodepth=${j.iodepth} direct=${j.direct ? 1 : 0} api=${j.api}` +
      (j.rw === 'nop' ? '' : ` file=${j.filename}`) +
      (j.fixedbufs ? ' fixedbufs' : '') +
      (j.registerfiles ? ' registerfiles' : '') +
      (j.batchSubmit ? ` iodepth_batch_submit=${j.batchSubmit}` : ''),
    `  IOPS=${si(r.iops)}, BW=${r.bw.toFixed(1)}MiB/s (${r.ops} ops in ${r.seconds.toFixed(2)}s)`,
  ];
  if (r.lat) {
    const l = r.lat;
    lines.push(`  lat (usec): p50=${l.p50.toFixed(1)}, p99=${l.p99.toFixed(1)}, p99.9=${l.p999.toFixed(1)}, mean=${l.mean.toFixed(1)}, min=${l.min.toFixed(1)}, max=${l.max.toFixed(1)}`);
  }
  lines.push(`  cpu: usr=${r.cpu.user.toFixed(1)}%, sys=${r.cpu.sys.toFixed(1)}%`);
  const m = r.memory;
  lines.push(`  memory: heap ${kib(m.heapAfter - m.heapBefore)} (now ${(m.heapAfter / 1048576).toFixed(1)} MiB), rss ${kib(m.rssAfter - m.rssBefore)} (now ${(m.rssAfter / 1048576).toFixed(1)} MiB)`);
  for (const n of r.notes) lines.push(`  note: ${n}`);
  if (r.error) lines.push(`  error: ${r.error.code} (${r.error.errno})`);
  return lines.join('\n');
}

/** An error as one line: its message (Node's system errors already name code, syscall and path). */
export function oneLine(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const text = e.message.replace(/\s*\n\s*/g, ' ').trim();
  return e.name === 'Error' || e.name === 'BenchError' || 'errno' in e ? text : `${e.name}: ${text}`;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'probe') {
    process.stdout.write(`${JSON.stringify(probe(), null, 2)}\n`);
    return 0;
  }
  if (command === 'bench') {
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    let job;
    try {
      job = parseArgs(rest);
    } catch (e) {
      process.stderr.write(`kaio bench: ${(e as Error).message}\n`);
      return 2;
    }
    let result: BenchResult;
    try {
      result = await runJob(job);
    } catch (e) {
      process.stderr.write(`kaio bench: ${oneLine(e)}\n`);
      return 1;
    }
    process.stdout.write(job.json ? `${JSON.stringify(result)}\n` : `${formatResult(result)}\n`);
    return result.error ? 1 : 0;
  }
  process.stderr.write(`usage: kaio probe\n       kaio bench --help\n`);
  return 2;
}
