// `kaio bench` and fio as child processes, for the bench tests that compare
// the two on the same job: their runs (to the end, or side by side), the JSON
// document, kaio's refusals, and its command line parsed in memory.
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawn, spawnSync, type SpawnSyncOptions, type SpawnSyncReturns } from 'node:child_process';
import { parseCommandLine } from '../dist/lib/bench/options';
import { pkgRoot } from './helpers';

const bin = path.join(pkgRoot, 'bin', 'kaio');

/** `kaio <args>` (any command), up to 60 s. */
export const kaioCommand = (args: string[], opts: Omit<SpawnSyncOptions, 'encoding'> = {}): SpawnSyncReturns<string> =>
  spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60000, ...opts });
/** `kaio bench <args>` (no ETA line), up to 60 s. */
export const kaio = (args: string[], opts: Omit<SpawnSyncOptions, 'encoding'> = {}): SpawnSyncReturns<string> =>
  kaioCommand(['bench', '--eta=never', ...args], opts);
export const haveFio = spawnSync('fio', ['--version'], { encoding: 'utf8' }).status === 0;
/** `fio <args>`, up to 60 s. */
export const fio = (args: string[]): SpawnSyncReturns<string> => spawnSync('fio', args, { encoding: 'utf8', timeout: 60000 });

/** The JSON document in a run's output or a file's text (whatever notes came before it). */
export function json<T>(text: string): T {
  return JSON.parse(text.slice(text.indexOf('{'))) as T;
}

/** The JSON document of a run that exited 0. */
export function doc<T>(r: SpawnSyncReturns<string>): T {
  assert.equal(r.status, 0, r.stderr);
  return json<T>(r.stdout);
}

/** One line on stderr (after notes), "kaio bench: ...", the status given, no stack. */
export function refused(r: SpawnSyncReturns<string>, status: number, re?: RegExp, what = ''): void {
  assert.equal(r.status, status, `${what}: status ${r.status}, stderr: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n').filter((l) => !l.startsWith('kaio bench: note:'));
  assert.equal(lines.length, 1, `${what}: stderr is not one line:\n${r.stderr}`);
  assert.match(lines[0], /^kaio bench: /, what);
  if (re) assert.match(lines[0], re, what);
  assert.doesNotMatch(r.stderr, /\n\s+at /, `${what}: stack trace`);
}

/** A run that went on while others did. */
export interface Ran<T> {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Its JSON document, if it wrote one. */
  doc?: T;
}

/** Runs a command to its end asynchronously, so that two can run side by side. */
function ran<T>(cmd: string, args: string[]): Promise<Ran<T>> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('error', reject);
    c.on('close', (status) => {
      let d: T | undefined;
      try {
        d = json<T>(stdout);
      } catch {
        d = undefined;
      }
      resolve({ status, stdout, stderr, doc: d });
    });
  });
}
/** `kaio bench --output-format=json <args>`, asynchronously. */
export const kaioAside = <T>(args: string[]): Promise<Ran<T>> => ran<T>(process.execPath, [bin, 'bench', '--eta=never', '--output-format=json', ...args]);
/** `fio --output-format=json <args>`, asynchronously. */
export const fioAside = <T>(args: string[]): Promise<Ran<T>> => ran<T>('fio', ['--output-format=json', ...args]);

/** kaio bench's command line parsed in memory, job files read from `files` (by name) instead of the disk. */
export const parse = (args: string[], files: Record<string, string> = {}): ReturnType<typeof parseCommandLine> =>
  parseCommandLine(args, (p) => {
    const key = Object.keys(files).find((k) => p === k || p.endsWith(`/${k}`));
    if (key === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    return files[key];
  });
