// `kaio bench` and fio as child processes, for the bench tests that compare
// the two on the same job: their runs, the JSON document, and kaio's refusals.
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { pkgRoot } from './helpers';

const bin = path.join(pkgRoot, 'bin', 'kaio');

/** `kaio bench <args>` (no ETA line), up to 60 s. */
export const kaio = (args: string[]): SpawnSyncReturns<string> =>
  spawnSync(process.execPath, [bin, 'bench', '--eta=never', ...args], { encoding: 'utf8', timeout: 60000 });
export const haveFio = spawnSync('fio', ['--version'], { encoding: 'utf8' }).status === 0;
/** `fio <args>`, up to 60 s. */
export const fio = (args: string[]): SpawnSyncReturns<string> => spawnSync('fio', args, { encoding: 'utf8', timeout: 60000 });

/** The JSON document of a run that exited 0 (whatever notes came before it). */
export function doc<T>(r: SpawnSyncReturns<string>): T {
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as T;
}

/** One line on stderr (after notes), "kaio bench: ...", the status given, no stack. */
export function refused(r: SpawnSyncReturns<string>, status: number, re: RegExp): void {
  assert.equal(r.status, status, r.stderr);
  const lines = r.stderr.trimEnd().split('\n').filter((l) => !l.startsWith('kaio bench: note:'));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^kaio bench: /);
  assert.match(lines[0], re);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}
