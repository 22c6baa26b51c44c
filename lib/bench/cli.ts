// `kaio bench ...` and `kaio probe`: the command behind bin/kaio.
import * as fs from 'node:fs';
import { probe } from '../probe';
import { parseCommandLine, USAGE, type Program } from './options';
import { headerText, toJson, toText, VERSION } from './report';
import { plotSvg } from './plot';
import { toTerse } from './terse';
import { runProgram, SAMPLE_MS, type ProgramResult } from './run';

/** An error as one line: its message (Node's system errors already name code, syscall and path). */
export function oneLine(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const text = e.message.replace(/\s*\n\s*/g, ' ').trim();
  const code = (e as { code?: unknown }).code;
  const coded = typeof code === 'string' && code.startsWith('ERR_');
  return coded || e.name === 'Error' || e.name === 'BenchError' || 'errno' in e ? text : `${e.name}: ${text}`;
}

function firstError(res: ProgramResult): string | undefined {
  for (const g of res.groups)
    for (const i of g.instances) {
      if (i.failure) return i.failure;
      if (i.outcome?.error) return i.outcome.error.message;
    }
  return undefined;
}

async function bench(args: readonly string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (args.includes('--version')) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  let program: Program;
  try {
    program = parseCommandLine(args, (p) => fs.readFileSync(p, 'utf8'));
  } catch (e) {
    process.stderr.write(`kaio bench: ${oneLine(e)}\n`);
    return 2;
  }
  for (const n of program.notes) process.stderr.write(`kaio bench: note: ${n}\n`);
  // fio's --showcmd prints the jobs as one command line; --parse-only stops after the parse.
  if (program.showcmd) {
    process.stdout.write(`${program.showcmd}\n`);
    return 0;
  }
  if (program.parseOnly) return 0;
  const write = (text: string): void => {
    if (program.output) fs.appendFileSync(program.output, text);
    else process.stdout.write(text);
  };
  if (program.output) {
    try {
      fs.writeFileSync(program.output, '');
    } catch (e) {
      process.stderr.write(`kaio bench: --output: ${oneLine(e)}\n`);
      return 1;
    }
  }
  const started = new Date();
  // Several formats at once, as fio: the JSON document first, then the normal text.
  const normal = program.formats.includes('normal');
  const jsonPlus = program.formats.includes('json+');
  const json = jsonPlus || program.formats.includes('json');
  const terse = program.formats.includes('terse');
  if (normal) write(headerText(program.jobs));
  // Every format of a report, in fio's order: terse, json, normal.
  const report = (res: ProgramResult): void => {
    if (terse) write(toTerse(res));
    if (json) write(`${JSON.stringify(toJson(res, jsonPlus, started, program.globalOptions), null, 2)}\n`);
    if (normal) write(toText(res, started));
  };
  const stop = new SharedArrayBuffer(4);
  const flag = new Int32Array(stop);
  let signals = 0;
  let tempDir = '';
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    Atomics.store(flag, 0, 1);
    if (signals === 1) process.stderr.write(`${live ? '\n' : ''}kaio bench: terminating on signal ${sig}; results so far follow\n`);
    else {
      // A second signal: the jobs did not stop (a stuck device?). Leave now, without the temp file.
      if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
      process.stderr.write(`kaio bench: second ${sig}: exiting without results\n`);
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const live = program.eta === 'always' || (program.eta === 'auto' && process.stderr.isTTY === true);
  let result: ProgramResult;
  try {
    result = await runProgram(program, {
      stop,
      tempDir: (dir) => (tempDir = dir),
      status: live ? (line) => process.stderr.write(`\r${line}\x1b[K`) : undefined,
      statusInterval: program.statusInterval,
      interim: program.statusInterval
        ? (sofar) => {
            if (live) process.stderr.write('\r\x1b[K');
            report(sofar);
          }
        : undefined,
    });
  } catch (e) {
    if (live) process.stderr.write('\r\x1b[K');
    process.stderr.write(`kaio bench: ${oneLine(e)}\n`);
    return 1;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  if (live) process.stderr.write('\r\x1b[K');
  const error = firstError(result);
  const ranAny = result.groups.some((g) => g.instances.some((i) => i.outcome));
  if (ranAny) {
    if (normal) for (const g of result.groups) for (const i of g.instances) for (const n of i.notes) process.stderr.write(`kaio bench: note: ${n}\n`);
    report(result);
    if (program.plot) {
      try {
        fs.writeFileSync(program.plot, plotSvg(result, SAMPLE_MS));
      } catch (e) {
        process.stderr.write(`kaio bench: --plot: ${oneLine(e)}\n`);
        return 1;
      }
    }
  }
  if (error) {
    process.stderr.write(`kaio bench: ${error}\n`);
    return 1;
  }
  return result.interrupted || signals ? 130 : 0;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'probe') {
    process.stdout.write(`${JSON.stringify(probe(), null, 2)}\n`);
    return 0;
  }
  if (command === 'bench') return bench(rest);
  if (command === '--version') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  process.stderr.write(`usage: kaio probe\n       kaio bench --help\n`);
  return 2;
}
